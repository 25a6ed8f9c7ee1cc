using System.Diagnostics;
using System.Globalization;

namespace Wafer.Bench;

/// <summary>
/// Runs one pack or unpack in a fresh child process (this same program, hidden verb <c>measure</c>) so that
/// its peak resident set is its own, not the benchmark's.
/// </summary>
internal static class ChildMeasurement
{
    public readonly record struct Sample(double Seconds, long PeakRssBytes);

    public static Sample Run(string operation, string input, string output, int threads, int repeats = 3)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
        {
            start.ArgumentList.Add(typeof(ChildMeasurement).Assembly.Location);
        }

        foreach (string arg in new[] { "measure", operation, input, output, threads.ToString(CultureInfo.InvariantCulture), repeats.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        string line = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"measure {operation} failed with exit code {process.ExitCode}: {line}");
        }

        string[] parts = line.Split(' ');
        return new Sample(double.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    /// <summary>The child side: do the work, then print seconds and peak RSS.</summary>
    public static int Measure(string[] args)
    {
        string operation = args[0];
        int threads = int.Parse(args[3], CultureInfo.InvariantCulture);
        int repeats = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 3;
        double seconds = double.MaxValue;

        // Best of a few runs: the first pays for JIT compilation, which says nothing about throughput.
        for (int run = 0; run < repeats; run++)
        {
            var clock = Stopwatch.StartNew();
            if (operation == "pack")
            {
                WaferPacker.Pack(args[1], args[2], new PackOptions { Threads = threads, Overwrite = true });
            }
            else
            {
                using WaferArchive archive = WaferArchive.Open(args[1]);
                archive.Unpack(args[2], new UnpackOptions { Threads = threads, Overwrite = true });
            }

            seconds = Math.Min(seconds, clock.Elapsed.TotalSeconds);
        }

        using var self = Process.GetCurrentProcess();
        self.Refresh();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{seconds:0.######} {self.PeakWorkingSet64}"));
        return 0;
    }
}
