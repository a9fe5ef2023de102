using System.Text.Json;

namespace VlmRm.Rl.Presets;

/// <summary>
/// Enum values as configuration files spell them: the member name in snake_case (<c>GroundTruth</c> is
/// <c>ground_truth</c>), the same in YAML, in the JSON that hands a run to a grain, and in run ids.
/// </summary>
public static class ConfigSpelling
{
    public static string Of(Enum value) => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    /// <summary>The spellings of an enum's members in words: "auto, cpu or cuda".</summary>
    public static string Choices(Type enumType)
    {
        var names = Enum.GetValues(enumType).Cast<Enum>().Select(Of).ToList();
        return names.Count == 1 ? names[0] : $"{string.Join(", ", names[..^1])} or {names[^1]}";
    }

    /// <summary>The member spelled <paramref name="text"/> (its snake_case name, or the member name itself), or null.</summary>
    public static object? Parse(Type enumType, string text) =>
        Enum.GetValues(enumType).Cast<Enum>().FirstOrDefault(v => Of(v) == text || v.ToString() == text);
}
