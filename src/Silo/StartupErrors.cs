using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using VlmRm.Rl.Presets;

namespace VlmRm.Silo;

/// <summary>A silo that cannot start says why in one line naming the setting, not with a stack trace.</summary>
internal static partial class StartupErrors
{
    public static string Describe(Exception e) => e switch
    {
        OptionsValidationException validation => string.Join(" ", validation.Failures),
        InvalidOperationException when BinderFailure().Match(e.Message) is { Success: true } m => $"{m.Groups["key"].Value}: '{m.Groups["value"].Value}' is not {Expected(m.Groups["type"].Value)}",
        _ => e.Message,
    };

    private static string Expected(string typeName)
    {
        var type = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetType(typeName)).FirstOrDefault(t => t is not null);
        return type switch
        {
            { IsEnum: true } => ConfigSpelling.Choices(type),
            _ when typeName is "System.Int32" or "System.Int64" => "a whole number",
            _ when typeName is "System.Double" or "System.Single" => "a number",
            _ when typeName is "System.Boolean" => "true or false",
            _ when typeName is "System.TimeSpan" => "a duration (hh:mm:ss)",
            _ => "a value of the right kind",
        };
    }

    [GeneratedRegex(@"Failed to convert configuration value '(?<value>[^']*)' at '(?<key>[^']*)' to type '(?<type>[^']*)'")]
    private static partial Regex BinderFailure();
}
