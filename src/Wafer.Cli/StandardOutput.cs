using Spectre.Console;

namespace Wafer.Cli;

/// <summary>A Spectre console on standard output; wide enough when redirected that tables do not wrap in logs.</summary>
internal static class StandardOutput
{
    public static IAnsiConsole Create()
    {
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected)
        {
            console.Profile.Width = 160;
        }

        return console;
    }
}
