//! A private System V shared-memory segment for MIT-SHM capture.
//!
//! This is the agent's only unsafe code: mapping shared memory needs libc calls that
//! have no safe wrapper. It is kept to this file, and the segment is created with mode
//! 0600 (owner only) — unlike scrap's X11 capturer, whose world-readable segment would let
//! any local user on a shared shelter PC read the resident's screen.
#![allow(unsafe_code)]

use std::ptr::NonNull;

/// An attached shared-memory segment, detached and removed on drop.
pub(crate) struct Segment {
    id: i32,
    addr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; access goes through &self/&mut self.
unsafe impl Send for Segment {}

impl Segment {
    /// Creates and attaches a private segment of `len` bytes.
    pub(crate) fn new(len: usize) -> std::io::Result<Self> {
        // SAFETY: plain syscall; IPC_PRIVATE always creates a new segment.
        let id = unsafe { libc::shmget(libc::IPC_PRIVATE, len, libc::IPC_CREAT | 0o600) };
        if id < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `id` is the segment just created; a null address lets the kernel choose.
        let addr = unsafe { libc::shmat(id, std::ptr::null(), libc::SHM_RDONLY) };
        if addr as isize == -1 {
            let err = std::io::Error::last_os_error();
            // SAFETY: removing the segment we created; nothing is attached.
            unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) };
            return Err(err);
        }
        let Some(addr) = NonNull::new(addr.cast::<u8>()) else {
            return Err(std::io::Error::other("shmat returned null"));
        };
        Ok(Self { id, addr, len })
    }

    /// The id to hand to the X server's ShmAttach.
    pub(crate) fn id(&self) -> u32 {
        self.id as u32
    }

    /// Marks the segment for removal once every process has detached it. Called right
    /// after the X server attached it, so no other process can attach it later and it
    /// never outlives us, even after a crash.
    pub(crate) fn remove_when_detached(&self) {
        // SAFETY: `id` is our segment; IPC_RMID with a null buffer is the documented form.
        unsafe { libc::shmctl(self.id, libc::IPC_RMID, std::ptr::null_mut()) };
    }

    /// The segment's bytes, as last written by the X server.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `addr` maps `len` readable bytes for as long as `self` lives. The server
        // writes only during a ShmGetImage we wait for, never while this slice is used.
        unsafe { std::slice::from_raw_parts(self.addr.as_ptr(), self.len) }
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        // SAFETY: detaching the address returned by shmat; removing our own segment.
        unsafe {
            libc::shmdt(self.addr.as_ptr().cast());
            libc::shmctl(self.id, libc::IPC_RMID, std::ptr::null_mut());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_is_private_to_its_owner() {
        let seg = Segment::new(4096).unwrap();
        let mut info: libc::shmid_ds = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::shmctl(seg.id, libc::IPC_STAT, &mut info) };
        assert_eq!(rc, 0);
        assert_eq!(
            info.shm_perm.mode & 0o077,
            0,
            "group and others must have no access"
        );
        assert_eq!(seg.bytes().len(), 4096);
    }
}
