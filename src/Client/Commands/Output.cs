using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace VlmRm.Client.Commands;

/// <summary>How a long-running verb talks to whoever reads it.</summary>
internal enum OutputStyle
{
    /// <summary>A terminal: live progress bars and tables.</summary>
    Live,

    /// <summary>A file or a pipe (CI, nohup, a Kubernetes job): progress as plain lines, each printed once.</summary>
    Lines,

    /// <summary><c>--quiet</c>: results and errors only.</summary>
    Quiet,

    /// <summary><c>--json</c>: one JSON object per line (<c>"event"</c> names what it is), for machines.</summary>
    Json,
}

/// <summary>
/// What a long-running verb (try, train, run, clip train) prints, in its <see cref="OutputStyle"/>: messages, progress
/// and results. Progress lines are written when the work crosses a tenth or every 30 s, never re-drawn.
/// </summary>
internal sealed class Output(OutputStyle style)
{
    private static readonly Option<bool> QuietOption = new("--quiet") { Description = "Print results and errors only, no progress." };
    private static readonly Option<bool> JsonOption = new("--json") { Description = "Print messages, progress and results as one JSON object per line." };
    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void AddOptionsTo(Command command)
    {
        command.Options.Add(QuietOption);
        command.Options.Add(JsonOption);
    }

    public static Output For(ParseResult parse) =>
        parse.GetValue(JsonOption) ? new(OutputStyle.Json)
        : parse.GetValue(QuietOption) ? new(OutputStyle.Quiet)
        : ForConsole();

    /// <summary>Live on a terminal, lines otherwise (verbs without --quiet/--json).</summary>
    public static Output ForConsole() => new(!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive ? OutputStyle.Live : OutputStyle.Lines);

    public OutputStyle Style => style;

    /// <summary>A message about what is happening (Spectre markup): its plain text with --json, nothing with --quiet.</summary>
    public void Message(string markup)
    {
        if (style == OutputStyle.Json) Emit("message", new { Text = Markup.Remove(markup) });
        else if (style != OutputStyle.Quiet) Line(markup);
    }

    /// <summary>A line of results for people (Spectre markup), printed even with --quiet; with --json the records say it.</summary>
    public void ResultLine(string markup)
    {
        if (style != OutputStyle.Json) Line(markup);
    }

    /// <summary>One result: a line for people (Spectre markup, printed even with --quiet), or the record as JSON.</summary>
    public void Result(string kind, object record, string markup)
    {
        if (style == OutputStyle.Json) Emit(kind, record);
        else Line(markup);
    }

    /// <summary>A progress report already throttled by the caller: a plain line, a JSON record, or nothing (live, quiet).</summary>
    public void ProgressEvent(string kind, object record, string markup)
    {
        if (style == OutputStyle.Json) Emit(kind, record);
        else if (style == OutputStyle.Lines) Line(markup);
    }

    /// <summary>Results: the table for people, or one JSON object per record.</summary>
    public void Results<T>(string kind, Table table, IEnumerable<T> records)
    {
        if (style != OutputStyle.Json)
        {
            AnsiConsole.Write(table);
            return;
        }
        foreach (var record in records) Emit(kind, record!);
    }

    /// <summary>Markup on a terminal; in a log, its text on one line (Spectre would wrap it at 80 columns).</summary>
    private void Line(string markup)
    {
        if (style == OutputStyle.Live) AnsiConsole.MarkupLine(markup);
        else Console.WriteLine(Markup.Remove(markup));
    }

    /// <summary>One JSON line: <c>{"event": kind, ...fields}</c> (snake_case names; NaN and infinities as null).</summary>
    public static void Emit(string kind, object fields)
    {
        var line = new JsonObject { ["event"] = kind };
        if (JsonSerializer.SerializeToNode(fields, fields.GetType(), JsonOptions) is JsonObject values)
        {
            foreach (var (name, value) in values.ToList())
            {
                values.Remove(name);
                line[name] = value;
            }
        }
        Console.Out.WriteLine(line.ToJsonString());
        Console.Out.Flush();
    }

    /// <summary>A finite number, or null (JSON has no NaN): an average before anything was averaged.</summary>
    public static double? Finite(double value) => double.IsFinite(value) ? value : null;

    /// <summary>Progress of one task: a live bar, throttled lines, JSON "progress" events, or nothing.</summary>
    /// <param name="work">Runs the task; calls its argument with (done, status text) as it goes.</param>
    public async Task ProgressAsync(string name, long total, long start, Func<Action<long, string>, Task> work)
    {
        if (style == OutputStyle.Live)
        {
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask(Markup.Escape(name), maxValue: total);
                    task.Value = start;
                    await work((done, status) =>
                    {
                        task.Value = done;
                        task.Description = $"{Markup.Escape(name)} {Markup.Escape(status)}";
                    });
                    task.Value = total;
                });
            return;
        }
        var throttle = new LineThrottle(total, start);
        var gate = new Lock();
        await work((done, status) =>
        {
            lock (gate)
            {
                if (!throttle.Due(done)) return;
                if (style == OutputStyle.Lines) Console.WriteLine($"{name}: {done:N0}/{total:N0} ({100.0 * done / Math.Max(1, total):F0}%){(status.Length > 0 ? " " : "")}{status}");
                else if (style == OutputStyle.Json) Emit("progress", new { Task = name, Done = done, Total = total, Status = status });
            }
        });
    }

    public void Progress(string name, long total, long start, Action<Action<long, string>> work) =>
        ProgressAsync(name, total, start, report =>
        {
            work(report);
            return Task.CompletedTask;
        }).GetAwaiter().GetResult();
}

/// <summary>
/// Lets a progress line through when the work has crossed a tenth of its total at least 5 s after the last line, when
/// 30 s have passed, or when it is done; a task of a few seconds prints one line, an hour-long one every 10% or 30 s.
/// </summary>
internal sealed class LineThrottle(long total, long start)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MinimumGap = TimeSpan.FromSeconds(5);

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastTenth = Tenth(start, total);
    private TimeSpan _lastLine = TimeSpan.Zero;
    private bool _finished;

    public bool Due(long done)
    {
        if (_finished) return false;
        var tenth = Tenth(done, total);
        var since = _clock.Elapsed - _lastLine;
        _finished = total > 0 && done >= total;
        if (!_finished && since < Interval && (tenth == _lastTenth || since < MinimumGap)) return false;
        _lastTenth = tenth;
        _lastLine = _clock.Elapsed;
        return true;
    }

    private static long Tenth(long done, long total) => done * 10 / Math.Max(1, total);
}

/// <summary>Reports on the caller's thread, in order (<see cref="Progress{T}"/> posts to the thread pool, out of order).</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
