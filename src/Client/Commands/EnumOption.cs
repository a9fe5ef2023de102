using System.CommandLine;
using VlmRm.Rl.Presets;

namespace VlmRm.Client.Commands;

/// <summary>Options whose values are spelled as the YAML files spell them (snake case), an unknown one answered with the choices.</summary>
internal static class EnumOption
{
    public static Option<T?> Create<T>(string name, string description) where T : struct, Enum => new(name)
    {
        Description = $"{description}: {ConfigSpelling.Choices(typeof(T))}.",
        CustomParser = result =>
        {
            var text = result.Tokens.Single().Value;
            if (ConfigSpelling.Parse(typeof(T), text) is T value) return value;
            result.AddError($"{name}: '{text}' is not {ConfigSpelling.Choices(typeof(T))}.");
            return null;
        },
    };
}
