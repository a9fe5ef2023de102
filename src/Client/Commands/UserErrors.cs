using System.CommandLine.Parsing;
using System.Text.RegularExpressions;
using Spectre.Console;

namespace VlmRm.Client.Commands;

/// <summary>
/// Runs a command's action so that a problem with the user's input or files (bad YAML, a missing model, a damaged
/// set, an unknown run) is printed as one red line with exit code 1, not a stack trace.
/// </summary>
internal static partial class UserErrors
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

    /// <summary>A command-line parse error in words: System.CommandLine names the .NET type a value did not parse as.</summary>
    public static string Describe(ParseError error)
    {
        var match = UnparsedValue().Match(error.Message);
        if (!match.Success) return error.Message;
        var type = match.Groups["type"].Value;
        var expected = type.Contains("Int32", StringComparison.Ordinal) || type.Contains("Int64", StringComparison.Ordinal) ? "a whole number"
            : type.Contains("Double", StringComparison.Ordinal) || type.Contains("Single", StringComparison.Ordinal) ? "a number"
            : type.Contains("Boolean", StringComparison.Ordinal) ? "true or false"
            : "a value of the right kind";
        return $"{match.Groups["name"].Value}: '{match.Groups["value"].Value}' is not {expected}.";
    }

    /// <summary>"See 'vlmrm evaluate epic --help'." for the command a parse stopped in.</summary>
    public static string HelpHint(CommandResult command)
    {
        var names = new List<string>();
        for (SymbolResult? result = command; result is CommandResult { Parent: not null } inner; result = inner.Parent) names.Insert(0, inner.Command.Name);
        return $"See '{string.Join(' ', names.Prepend("vlmrm"))} --help'.";
    }

    [GeneratedRegex(@"^Cannot parse argument '(?<value>[^']*)' for (option|argument) '(?<name>[^']*)' as expected type '(?<type>.*)'")]
    private static partial Regex UnparsedValue();

    private static int Print(Exception e)
    {
        AnsiConsole.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
        return 1;
    }
}
