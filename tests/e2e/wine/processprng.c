/* Test-only shim for Wine 8, never shipped: Rust's std (>= 1.78) imports ProcessPrng
 * from bcryptprimitives.dll, which Wine 8 lacks (the agent would exit with c0000135).
 * Built with mingw by tests/e2e/wine.mjs and copied into the test's own Wine prefix.
 * ProcessPrng is documented to always succeed; RtlGenRandom (SystemFunction036 in
 * advapi32) gives the same system randomness. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
