using System.Reflection;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace VlmRm.Rl.Presets;

/// <summary>
/// Reads run and sweep files strictly (snake_case keys, <see cref="ConfigSpelling"/> spellings, no key twice) and turns
/// every YAML problem into one line a user can act on: file, line and column, the key path, what was given and
/// what that key takes — never a .NET type name.
/// </summary>
public static class ConfigYaml
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .WithTypeConverter(new EnumConverter())
        .WithDuplicateKeyChecking()
        .Build();

    /// <summary>
    /// A run or sweep file's text, refused whole when it is not UTF-8 text (a NUL byte or bytes that are not UTF-8):
    /// the YAML parser would read such a file as one long key and echo it back as garbage.
    /// </summary>
    public static string ReadText(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var nul = Array.IndexOf(bytes, (byte)0);
        if (nul >= 0) throw new InvalidDataException($"{path}: not a text file (a NUL byte at offset {nul}); run and sweep files are YAML text.");
        try
        {
            return new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes).TrimStart('\uFEFF');
        }
        catch (System.Text.DecoderFallbackException e)
        {
            throw new InvalidDataException($"{path}: not a text file (bytes that are not UTF-8 at offset {e.Index}); run and sweep files are YAML text.", e);
        }
    }

    public static T Deserialize<T>(string yaml, string source, string whenEmpty) where T : class
    {
        try
        {
            return Deserializer.Deserialize<T?>(yaml) ?? throw new InvalidDataException($"{source}: {whenEmpty}");
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{source}:{e.Start.Line}:{e.Start.Column}: {Describe(e, yaml, typeof(T))}", e);
        }
    }

    private static string Describe(YamlException e, string yaml, Type root)
    {
        if (e is SyntaxErrorException or SemanticErrorException) return $"YAML syntax: {char.ToLowerInvariant(e.Message[0])}{e.Message[1..]}";
        var duplicate = e.Message.StartsWith("Encountered duplicate key", StringComparison.Ordinal);
        var aboutKey = duplicate || e.Message.Contains("not found on type", StringComparison.Ordinal);
        if (Locate(yaml, e.Start, aboutKey) is not { } found) return (e.InnerException ?? e).Message;
        var where = found.Path.Count == 0 ? "" : $"{string.Join(".", found.Path.Where(p => !p.StartsWith('[')))}: ";
        var type = TypeAt(root, found.Path);
        if (aboutKey)
        {
            if (duplicate) return $"{where}key '{found.Given}' is given twice";
            var known = type is null ? "" : $"; known keys here: {string.Join(", ", Keys(type))}";
            return $"{where}unknown key '{found.Given}'{known}";
        }
        var expected = type is null ? "a value of another kind" : Expected(type);
        return e.InnerException is OverflowException ? $"{where}{found.Given} is out of range for {expected}" : $"{where}{found.Given} is not {expected}";
    }

    /// <summary>
    /// The key path ("[i]" for list items) to the node starting at <paramref name="mark"/>, and that node in words:
    /// a key's own text when <paramref name="key"/>, else a value ('text', a list, a section of keys). Read from
    /// the parser's events, so that documents a representation model refuses (keys given twice) are located too.
    /// </summary>
    private static (List<string> Path, string Given)? Locate(string yaml, Mark mark, bool key)
    {
        var parser = new Parser(new StringReader(yaml));
        var open = new Stack<(bool IsMapping, List<string> Path, string? Key, int Index)>();
        try
        {
            while (parser.MoveNext())
            {
                var current = parser.Current!;
                if (current is MappingEnd or SequenceEnd)
                {
                    open.Pop();
                    Advance(open);
                    continue;
                }
                if (current is not NodeEvent node) continue;
                var isKey = open.TryPeek(out var parent) && parent.IsMapping && parent.Key is null;
                var path = !open.TryPeek(out parent) ? [] : isKey ? parent.Path : [.. parent.Path, parent.IsMapping ? parent.Key! : $"[{parent.Index}]"];
                if (At(node, mark) && isKey == key)
                {
                    return (path, node switch
                    {
                        Scalar scalar when key => scalar.Value,
                        Scalar scalar => $"'{scalar.Value}'",
                        SequenceStart => "a list",
                        _ => "a section of keys",
                    });
                }
                if (isKey)
                {
                    open.Push(open.Pop() with { Key = (node as Scalar)?.Value ?? "" });
                    continue;
                }
                if (node is MappingStart) open.Push((true, path, null, 0));
                else if (node is SequenceStart) open.Push((false, path, null, 0));
                else Advance(open);
            }
        }
        catch (YamlException)
        {
            // The document breaks off after the node asked for could not be found: say what the deserializer said.
        }
        return null;
    }

    /// <summary>A value has ended: its mapping waits for the next key, its list for the next item.</summary>
    private static void Advance(Stack<(bool IsMapping, List<string> Path, string? Key, int Index)> open)
    {
        if (open.TryPop(out var parent)) open.Push(parent.IsMapping ? parent with { Key = null } : parent with { Index = parent.Index + 1 });
    }

    private static bool At(ParsingEvent node, Mark mark) => node.Start.Line == mark.Line && node.Start.Column == mark.Column;

    /// <summary>The .NET type a key path deserializes into, or null where the path leaves the known shape.</summary>
    private static Type? TypeAt(Type root, IEnumerable<string> path)
    {
        Type? type = root;
        foreach (var step in path)
        {
            if (type is null) return null;
            type = step.StartsWith('[') ? ElementType(type) : Property(type, step)?.PropertyType;
        }
        return type;
    }

    private static PropertyInfo? Property(Type type, string key) =>
        Settable(type).FirstOrDefault(p => UnderscoredNamingConvention.Instance.Apply(p.Name) == key);

    private static IEnumerable<PropertyInfo> Settable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite);

    private static IEnumerable<string> Keys(Type type) => Settable(type).Select(p => UnderscoredNamingConvention.Instance.Apply(p.Name));

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType() : type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>) ? type.GetGenericArguments()[0] : null;

    private static string Expected(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum) return ConfigSpelling.Choices(type);
        if (type == typeof(string)) return "text";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(int)) return "a whole number (at most 2147483647)";
        if (type == typeof(long)) return "a whole number";
        if (type == typeof(float) || type == typeof(double)) return "a number";
        if (ElementType(type) is { } element) return $"a list of {Items(element)} ([a, b], or one '- item' per line)";
        return $"a section of keys ({string.Join(", ", Keys(type))})";
    }

    private static string Items(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum) return $"values ({ConfigSpelling.Choices(type)})";
        if (type == typeof(string)) return "texts";
        if (type == typeof(int) || type == typeof(long)) return "whole numbers";
        if (type == typeof(float) || type == typeof(double)) return "numbers";
        return $"sections of keys ({string.Join(", ", Keys(type))})";
    }

    /// <summary>Enums read as <see cref="ConfigSpelling"/> spells them.</summary>
    private sealed class EnumConverter : IYamlTypeConverter
    {
        public bool Accepts(Type type) => (Nullable.GetUnderlyingType(type) ?? type).IsEnum;

        public object? ReadYaml(IParser parser, Type type, ObjectDeserializer rootDeserializer)
        {
            var scalar = parser.Consume<Scalar>();
            var enumType = Nullable.GetUnderlyingType(type) ?? type;
            if (enumType != type && scalar.Value is "" or "~" or "null") return null;
            return ConfigSpelling.Parse(enumType, scalar.Value) ?? throw new FormatException($"'{scalar.Value}' is not {ConfigSpelling.Choices(enumType)}");
        }

        public void WriteYaml(IEmitter emitter, object? value, Type type, ObjectSerializer serializer) =>
            emitter.Emit(new Scalar(value is Enum e ? ConfigSpelling.Of(e) : ""));
    }
}
