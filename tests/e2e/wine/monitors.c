/* Test helper: prints the monitors Windows (here Wine) lists, one line each,
 * "NAME LEFT TOP RIGHT BOTTOM", so a test knows the layout the agent will see. */
#include <windows.h>
#include <stdio.h>

static BOOL CALLBACK print_monitor(HMONITOR monitor, HDC dc, LPRECT rect, LPARAM data)
{
    MONITORINFOEXA info;
    (void)dc;
    (void)rect;
    (void)data;
    info.cbSize = sizeof(info);
    if (GetMonitorInfoA(monitor, (MONITORINFO *)&info))
        printf("%s %ld %ld %ld %ld\n", info.szDevice, info.rcMonitor.left, info.rcMonitor.top,
               info.rcMonitor.right, info.rcMonitor.bottom);
    return TRUE;
}

int main(void)
{
    EnumDisplayMonitors(NULL, NULL, print_monitor, 0);
    return 0;
}
