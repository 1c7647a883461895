/* A one-field Windows form for the Windows agent's end-to-end tests (tests/e2e/
 * windows.test.mjs): a window at a known place with one edit box filling it; each
 * change of the box's text is written, as UTF-8, to the file named on the command line,
 * so the test reads exactly what reached a Windows program. It prints "ready" once
 * shown. Usage: form.exe OUTFILE X Y W H */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

static HWND edit;
static const wchar_t *out_path;

static void save(void)
{
    int n = GetWindowTextLengthW(edit);
    wchar_t *w = calloc(n + 1, sizeof(wchar_t));
    GetWindowTextW(edit, w, n + 1);
    int bytes = WideCharToMultiByte(CP_UTF8, 0, w, n, NULL, 0, NULL, NULL);
    char *u = calloc(bytes + 1, 1);
    WideCharToMultiByte(CP_UTF8, 0, w, n, u, bytes, NULL, NULL);
    wchar_t tmp[MAX_PATH];
    swprintf(tmp, MAX_PATH, L"%ls.tmp", out_path);
    FILE *f = _wfopen(tmp, L"wb");
    if (f) {
        fwrite(u, 1, bytes, f);
        fclose(f);
        MoveFileExW(tmp, out_path, MOVEFILE_REPLACE_EXISTING);
    }
    free(w);
    free(u);
}

static LRESULT CALLBACK proc(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp)
{
    switch (msg) {
    case WM_COMMAND:
        if (HIWORD(wp) == EN_CHANGE)
            save();
        return 0;
    case WM_SETFOCUS:
        SetFocus(edit);
        return 0;
    case WM_DESTROY:
        PostQuitMessage(0);
        return 0;
    }
    return DefWindowProcW(hwnd, msg, wp, lp);
}

int main(void)
{
    int argc;
    wchar_t **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (argc < 6)
        return 2;
    out_path = argv[1];
    int x = _wtoi(argv[2]), y = _wtoi(argv[3]), w = _wtoi(argv[4]), h = _wtoi(argv[5]);
    WNDCLASSW wc = {0};
    wc.lpfnWndProc = proc;
    wc.hInstance = GetModuleHandleW(NULL);
    wc.lpszClassName = L"AcoteTestForm";
    wc.hbrBackground = (HBRUSH)(COLOR_WINDOW + 1);
    RegisterClassW(&wc);
    HWND win = CreateWindowExW(0, L"AcoteTestForm", L"Formulaire", WS_POPUP | WS_VISIBLE | WS_BORDER,
                               x, y, w, h, NULL, NULL, wc.hInstance, NULL);
    edit = CreateWindowExW(0, L"EDIT", L"", WS_CHILD | WS_VISIBLE | ES_AUTOHSCROLL,
                           4, 4, w - 8, h - 8, win, NULL, wc.hInstance, NULL);
    HFONT font = CreateFontW(-28, 0, 0, 0, FW_NORMAL, 0, 0, 0, DEFAULT_CHARSET, 0, 0, 0, 0, L"Tahoma");
    SendMessageW(edit, WM_SETFONT, (WPARAM)font, TRUE);
    save();
    printf("ready\n");
    fflush(stdout);
    MSG m;
    while (GetMessageW(&m, NULL, 0, 0) > 0) {
        TranslateMessage(&m);
        DispatchMessageW(&m);
    }
    return 0;
}
