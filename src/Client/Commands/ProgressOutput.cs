using System.Diagnostics;
using Spectre.Console;

namespace VlmRm.Client.Commands;

/// <summary>
/// Progress of one long task: a live bar on a terminal; plain lines (every 10% or 30 s, each printed once) when
/// standard output is a file or a pipe, so logs of CI runs and batch jobs stay readable.
/// </summary>
internal static class ProgressOutput
{
    /// <param name="work">Runs the task; calls its argument with (done, status text) as it goes.</param>
    public static void Run(string name, long total, long start, Action<Action<long, string>> work)
    {
        if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
        {
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(context =>
                {
                    var task = context.AddTask(Markup.Escape(name), maxValue: total);
                    task.Value = start;
                    work((done, status) =>
                    {
                        task.Value = done;
                        task.Description = $"{Markup.Escape(name)} {Markup.Escape(status)}";
                    });
                });
            return;
        }
        var clock = Stopwatch.StartNew();
        var lastTenth = start * 10 / Math.Max(1, total);
        var lastLine = TimeSpan.Zero;
        work((done, status) =>
        {
            var tenth = done * 10 / Math.Max(1, total);
            if (tenth == lastTenth && clock.Elapsed - lastLine < TimeSpan.FromSeconds(30)) return;
            lastTenth = tenth;
            lastLine = clock.Elapsed;
            Console.WriteLine($"{name}: {done:N0}/{total:N0} ({100.0 * done / Math.Max(1, total):F0}%) {status}");
        });
    }
}
