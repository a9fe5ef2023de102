using Spectre.Console;

namespace VlmRm.Client.Commands;

/// <summary>
/// Runs a command's action so that a problem with the user's input or files (bad YAML, a missing model, a damaged
/// set, an unknown run) is printed as one red line with exit code 1, not a stack trace.
/// </summary>
internal static class UserErrors
{
    public static int Report(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (IsUserError(e))
        {
            return Print(e);
        }
    }

    public static async Task<int> ReportAsync(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (IsUserError(e))
        {
            return Print(e);
        }
    }

    private static bool IsUserError(Exception e) =>
        e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or ArgumentException
            or InvalidOperationException or IOException or KeyNotFoundException;

    private static int Print(Exception e)
    {
        AnsiConsole.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
        return 1;
    }
}
