using Spectre.Console;

namespace Wafer.Cli;

/// <summary>
/// Progress bars on standard error, shown only when it is an interactive terminal and <c>--quiet</c> is off,
/// so pipes and logs stay clean.
/// </summary>
internal static class ConsoleProgress
{
    public static T Run<T>(string description, bool quiet, Func<IProgress<WaferProgress>?, T> work)
    {
        if (quiet || Console.IsErrorRedirected)
        {
            return work(null);
        }

        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                ProgressTask task = context.AddTask(description, maxValue: 1);
                result = work(new Reporter(task));
                task.Value = task.MaxValue;
            });
        return result;
    }

    private sealed class Reporter(ProgressTask task) : IProgress<WaferProgress>
    {
        public void Report(WaferProgress value)
        {
            task.MaxValue = Math.Max(1, value.BytesTotal);
            task.Value = value.BytesDone;
        }
    }
}
