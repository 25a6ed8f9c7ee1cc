using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Wafer.Bench;

/// <summary>
/// CPU time of the calling thread (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>), so a per-thread speed counts neither other
/// processes on a shared machine nor the runtime's background threads (tiered JIT, GC); wall time elsewhere.
/// </summary>
internal static partial class ThreadCpuClock
{
    private const int ClockThreadCpuTime = 3;

    private static readonly bool s_available = OperatingSystem.IsLinux() && Probe();

    /// <summary>Seconds on an arbitrary origin; only differences on one thread mean anything.</summary>
    public static double Now()
    {
        if (s_available && ClockGetTime(ClockThreadCpuTime, out Timespec t) == 0)
        {
            return t.Seconds + (t.Nanoseconds * 1e-9);
        }

        return Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
    }

    private static bool Probe()
    {
        try
        {
            return ClockGetTime(ClockThreadCpuTime, out _) == 0;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
