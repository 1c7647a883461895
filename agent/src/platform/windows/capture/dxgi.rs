//! DXGI Desktop Duplication: the compositor hands over the desktop as a texture, with
//! the rectangles that changed and moved since the last frame and the pointer's shape
//! apart (it is never in the image). Only those rectangles are copied out of the staging
//! texture. Any error (access lost on a mode change or a desktop switch) goes up to the
//! caller, which opens the best backend again.
//!
//! Unsafe: Direct3D 11 and DXGI are COM interfaces without a safe wrapper.
#![allow(unsafe_code)]

use windows::Win32::Foundation::{HMODULE, RECT};
use windows::Win32::Graphics::Direct3D::D3D_DRIVER_TYPE_HARDWARE;
use windows::Win32::Graphics::Direct3D11::{
    D3D11_CPU_ACCESS_READ, D3D11_CREATE_DEVICE_BGRA_SUPPORT, D3D11_MAP_READ,
    D3D11_MAPPED_SUBRESOURCE, D3D11_SDK_VERSION, D3D11_TEXTURE2D_DESC, D3D11_USAGE_STAGING,
    D3D11CreateDevice, ID3D11Device, ID3D11DeviceContext, ID3D11Texture2D,
};
use windows::Win32::Graphics::Dxgi::Common::{DXGI_FORMAT_B8G8R8A8_UNORM, DXGI_SAMPLE_DESC};
use windows::Win32::Graphics::Dxgi::{
    DXGI_ERROR_WAIT_TIMEOUT, DXGI_OUTDUPL_FRAME_INFO, DXGI_OUTDUPL_MOVE_RECT,
    DXGI_OUTDUPL_POINTER_SHAPE_INFO, DXGI_OUTDUPL_POINTER_SHAPE_TYPE_COLOR,
    DXGI_OUTDUPL_POINTER_SHAPE_TYPE_MASKED_COLOR, DXGI_OUTDUPL_POINTER_SHAPE_TYPE_MONOCHROME,
    IDXGIDevice, IDXGIOutput1, IDXGIOutputDuplication, IDXGIResource,
};
use windows::core::Interface;

use crate::capture::{CaptureError, Frame};

fn dx_err(what: &str, e: windows::core::Error) -> CaptureError {
    CaptureError::Connection(format!("{what}: {e}"))
}

/// The pointer as duplication reports it.
#[derive(Default)]
struct Pointer {
    visible: bool,
    x: i32,
    y: i32,
    shape: Vec<u8>,
    info: DXGI_OUTDUPL_POINTER_SHAPE_INFO,
}

/// Captures the primary output through Desktop Duplication.
pub(super) struct DxgiCapturer {
    context: ID3D11DeviceContext,
    duplication: IDXGIOutputDuplication,
    staging: ID3D11Texture2D,
    width: u32,
    height: u32,
    /// Whether a frame is acquired and must be released before the next.
    holding: bool,
    /// The desktop without the pointer, kept up to date rectangle by rectangle.
    clean: Vec<u8>,
    /// What the pipeline gets: `clean` with the pointer drawn on top.
    composed: Vec<u8>,
    /// Nothing copied yet: the first frame copies the whole texture.
    fresh: bool,
    pointer: Pointer,
}

impl DxgiCapturer {
    /// Duplicates the primary output of the default adapter. Fails where duplication
    /// is not offered (Wine, some remote sessions, very old drivers).
    pub(super) fn open() -> Result<Self, CaptureError> {
        let mut device = None;
        let mut context = None;
        // SAFETY: COM calls with out-parameters we own; the interfaces are reference
        // counted by the `windows` crate.
        unsafe {
            D3D11CreateDevice(
                None::<&windows::Win32::Graphics::Dxgi::IDXGIAdapter>,
                D3D_DRIVER_TYPE_HARDWARE,
                HMODULE::default(),
                D3D11_CREATE_DEVICE_BGRA_SUPPORT,
                None,
                D3D11_SDK_VERSION,
                Some(&mut device),
                None,
                Some(&mut context),
            )
            .map_err(|e| dx_err("D3D11CreateDevice", e))?;
            let device: ID3D11Device =
                device.ok_or_else(|| CaptureError::Connection("no Direct3D device".into()))?;
            let context =
                context.ok_or_else(|| CaptureError::Connection("no Direct3D context".into()))?;
            let adapter = device
                .cast::<IDXGIDevice>()
                .and_then(|d| d.GetAdapter())
                .map_err(|e| dx_err("no DXGI adapter", e))?;
            let output = adapter
                .EnumOutputs(0)
                .and_then(|o| o.cast::<IDXGIOutput1>())
                .map_err(|e| dx_err("no DXGI output", e))?;
            let duplication = output
                .DuplicateOutput(&device)
                .map_err(|e| dx_err("DuplicateOutput", e))?;
            let mode = duplication.GetDesc().ModeDesc;
            let (width, height) = (mode.Width, mode.Height);
            let desc = D3D11_TEXTURE2D_DESC {
                Width: width,
                Height: height,
                MipLevels: 1,
                ArraySize: 1,
                Format: DXGI_FORMAT_B8G8R8A8_UNORM,
                SampleDesc: DXGI_SAMPLE_DESC {
                    Count: 1,
                    Quality: 0,
                },
                Usage: D3D11_USAGE_STAGING,
                BindFlags: 0,
                CPUAccessFlags: D3D11_CPU_ACCESS_READ.0 as u32,
                MiscFlags: 0,
            };
            let mut staging = None;
            device
                .CreateTexture2D(&desc, None, Some(&mut staging))
                .map_err(|e| dx_err("CreateTexture2D", e))?;
            let staging =
                staging.ok_or_else(|| CaptureError::Connection("no staging texture".into()))?;
            let len = width as usize * height as usize * 4;
            Ok(Self {
                context,
                duplication,
                staging,
                width,
                height,
                holding: false,
                clean: vec![0; len],
                composed: vec![0; len],
                fresh: true,
                pointer: Pointer::default(),
            })
        }
    }

    /// Takes the next frame if there is one; true when the picture or the pointer
    /// changed (or `force`), and [`DxgiCapturer::frame`] has it.
    pub(super) fn grab(&mut self, force: bool) -> Result<bool, CaptureError> {
        // SAFETY: COM calls on interfaces we hold; the frame is released before the next
        // is acquired, as duplication requires.
        unsafe {
            if self.holding {
                let _ = self.duplication.ReleaseFrame();
                self.holding = false;
            }
            let mut info = DXGI_OUTDUPL_FRAME_INFO::default();
            let mut resource: Option<IDXGIResource> = None;
            match self
                .duplication
                .AcquireNextFrame(0, &mut info, &mut resource)
            {
                Ok(()) => self.holding = true,
                Err(e) if e.code() == DXGI_ERROR_WAIT_TIMEOUT => {
                    if force && !self.fresh {
                        return Ok(true);
                    }
                    return Ok(false);
                }
                Err(e) => return Err(dx_err("AcquireNextFrame", e)),
            }
            let pointer_changed = self.update_pointer(&info)?;
            let picture_changed = info.LastPresentTime != 0 && info.AccumulatedFrames > 0;
            if picture_changed && let Some(resource) = resource {
                self.copy_changes(&resource)?;
            }
            let changed = picture_changed || pointer_changed || force;
            if changed && !self.fresh {
                self.compose();
            }
            Ok(changed && !self.fresh)
        }
    }

    /// The last picture, the pointer drawn in.
    pub(super) fn frame(&self) -> Frame<'_> {
        Frame {
            width: self.width,
            height: self.height,
            stride: self.width as usize * 4,
            data: &self.composed,
        }
    }

    /// Follows the pointer's position and shape; true when either changed.
    unsafe fn update_pointer(
        &mut self,
        info: &DXGI_OUTDUPL_FRAME_INFO,
    ) -> Result<bool, CaptureError> {
        if info.LastMouseUpdateTime == 0 {
            return Ok(false);
        }
        let p = &info.PointerPosition;
        self.pointer.visible = p.Visible.as_bool();
        self.pointer.x = p.Position.x;
        self.pointer.y = p.Position.y;
        if info.PointerShapeBufferSize > 0 {
            self.pointer
                .shape
                .resize(info.PointerShapeBufferSize as usize, 0);
            let mut needed = 0u32;
            // SAFETY: the buffer has the size duplication asked for.
            unsafe {
                self.duplication
                    .GetFramePointerShape(
                        info.PointerShapeBufferSize,
                        self.pointer.shape.as_mut_ptr().cast(),
                        &mut needed,
                        &mut self.pointer.info,
                    )
                    .map_err(|e| dx_err("GetFramePointerShape", e))?;
            }
        }
        Ok(true)
    }

    /// Copies the changed and moved rectangles (all of it the first time) from the
    /// desktop texture into `clean`.
    unsafe fn copy_changes(&mut self, resource: &IDXGIResource) -> Result<(), CaptureError> {
        // SAFETY: the texture is the acquired frame's; the mapping is read within its
        // row pitch and released before returning.
        unsafe {
            let texture: ID3D11Texture2D = resource
                .cast()
                .map_err(|e| dx_err("the desktop is not a texture", e))?;
            let rects = if self.fresh {
                vec![self.whole()]
            } else {
                self.changed_rects()
            };
            self.context.CopyResource(&self.staging, &texture);
            let mut mapped = D3D11_MAPPED_SUBRESOURCE::default();
            self.context
                .Map(&self.staging, 0, D3D11_MAP_READ, 0, Some(&mut mapped))
                .map_err(|e| dx_err("Map", e))?;
            let pitch = mapped.RowPitch as usize;
            let src =
                std::slice::from_raw_parts(mapped.pData.cast::<u8>(), pitch * self.height as usize);
            let stride = self.width as usize * 4;
            for r in rects {
                let (x0, x1) = (
                    r.left.max(0) as usize,
                    (r.right.max(0) as u32).min(self.width) as usize,
                );
                let (y0, y1) = (
                    r.top.max(0) as usize,
                    (r.bottom.max(0) as u32).min(self.height) as usize,
                );
                if x0 >= x1 {
                    continue;
                }
                for y in y0..y1 {
                    let from = y * pitch + x0 * 4;
                    let to = y * stride + x0 * 4;
                    let n = (x1 - x0) * 4;
                    self.clean[to..to + n].copy_from_slice(&src[from..from + n]);
                }
            }
            self.context.Unmap(&self.staging, 0);
            self.fresh = false;
            Ok(())
        }
    }

    fn whole(&self) -> RECT {
        RECT {
            left: 0,
            top: 0,
            right: self.width as i32,
            bottom: self.height as i32,
        }
    }

    /// The frame's dirty rectangles and the destinations of its moved ones; the whole
    /// screen if they cannot be had.
    unsafe fn changed_rects(&self) -> Vec<RECT> {
        let mut rects = Vec::new();
        // SAFETY: buffers sized as duplication reports; on any failure, the whole screen.
        unsafe {
            let mut needed = 0u32;
            let _ = self
                .duplication
                .GetFrameMoveRects(0, std::ptr::null_mut(), &mut needed);
            let mut moves = vec![
                DXGI_OUTDUPL_MOVE_RECT::default();
                needed as usize / size_of::<DXGI_OUTDUPL_MOVE_RECT>()
            ];
            if !moves.is_empty()
                && self
                    .duplication
                    .GetFrameMoveRects(needed, moves.as_mut_ptr(), &mut needed)
                    .is_err()
            {
                return vec![self.whole()];
            }
            rects.extend(moves.iter().map(|m| m.DestinationRect));
            let mut needed = 0u32;
            let _ = self
                .duplication
                .GetFrameDirtyRects(0, std::ptr::null_mut(), &mut needed);
            let mut dirty = vec![RECT::default(); needed as usize / size_of::<RECT>()];
            if !dirty.is_empty()
                && self
                    .duplication
                    .GetFrameDirtyRects(needed, dirty.as_mut_ptr(), &mut needed)
                    .is_err()
            {
                return vec![self.whole()];
            }
            rects.extend(dirty);
        }
        if rects.is_empty() {
            rects.push(self.whole());
        }
        rects
    }

    /// `composed` = `clean` + the pointer.
    fn compose(&mut self) {
        self.composed.copy_from_slice(&self.clean);
        if self.pointer.visible && !self.pointer.shape.is_empty() {
            draw_pointer(
                &mut self.composed,
                (self.width as usize, self.height as usize),
                &self.pointer,
            );
        }
    }
}

impl Drop for DxgiCapturer {
    fn drop(&mut self) {
        if self.holding {
            // SAFETY: releases the frame this value acquired.
            unsafe {
                let _ = self.duplication.ReleaseFrame();
            }
        }
    }
}

/// Draws duplication's pointer shape at its position: 32-bit colour with alpha, masked
/// colour (XOR where the mask is set), or monochrome (AND mask then XOR mask).
fn draw_pointer(px: &mut [u8], (w, h): (usize, usize), p: &Pointer) {
    let info = &p.info;
    let pitch = info.Pitch as usize;
    let kind = info.Type as i32;
    let (sw, sh) = if kind == DXGI_OUTDUPL_POINTER_SHAPE_TYPE_MONOCHROME.0 {
        // The AND mask on top of the XOR mask: half the height each.
        (info.Width as usize, info.Height as usize / 2)
    } else {
        (info.Width as usize, info.Height as usize)
    };
    for sy in 0..sh {
        let y = p.y + sy as i32;
        if y < 0 || y as usize >= h {
            continue;
        }
        for sx in 0..sw {
            let x = p.x + sx as i32;
            if x < 0 || x as usize >= w {
                continue;
            }
            let at = (y as usize * w + x as usize) * 4;
            let Some(dst) = px.get_mut(at..at + 3) else {
                continue;
            };
            if kind == DXGI_OUTDUPL_POINTER_SHAPE_TYPE_MONOCHROME.0 {
                let bit = |row: usize| {
                    p.shape
                        .get(row * pitch + sx / 8)
                        .is_some_and(|b| b & (0x80 >> (sx % 8)) != 0)
                };
                let (and, xor) = (bit(sy), bit(sy + sh));
                for c in dst.iter_mut() {
                    let v = if and { *c } else { 0 };
                    *c = if xor { v ^ 0xff } else { v };
                }
            } else {
                let Some(src) = p.shape.get(sy * pitch + sx * 4..sy * pitch + sx * 4 + 4) else {
                    continue;
                };
                if kind == DXGI_OUTDUPL_POINTER_SHAPE_TYPE_COLOR.0 {
                    let a = u16::from(src[3]);
                    for (c, s) in dst.iter_mut().zip(src) {
                        *c = ((u16::from(*s) * a + u16::from(*c) * (255 - a)) / 255) as u8;
                    }
                } else if kind == DXGI_OUTDUPL_POINTER_SHAPE_TYPE_MASKED_COLOR.0 {
                    let xor = src[3] != 0;
                    for (c, s) in dst.iter_mut().zip(src) {
                        *c = if xor { *c ^ *s } else { *s };
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_colour_pointer_is_blended_by_its_alpha() {
        let mut px = vec![0u8; 4 * 4 * 4];
        let p = Pointer {
            visible: true,
            x: 1,
            y: 1,
            // 1×1: opaque white.
            shape: vec![255, 255, 255, 255],
            info: DXGI_OUTDUPL_POINTER_SHAPE_INFO {
                Type: DXGI_OUTDUPL_POINTER_SHAPE_TYPE_COLOR.0 as u32,
                Width: 1,
                Height: 1,
                Pitch: 4,
                ..Default::default()
            },
        };
        draw_pointer(&mut px, (4, 4), &p);
        assert_eq!(&px[(4 + 1) * 4..(4 + 1) * 4 + 3], &[255, 255, 255]);
        assert_eq!(&px[..3], &[0, 0, 0]);
    }
}
