using BenchmarkDotNet.Running;

namespace Wafer.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/Wafer.Bench -- corpus [DATA]</c> prints the corpus tables;
/// any other arguments go to BenchmarkDotNet's switcher for the kernel micro-benchmarks.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length > 0 && CorpusSuites.TryRun(args[0], args[1..], out int exitCode))
        {
            return exitCode;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
