namespace VlmRm.Evaluation;

/// <summary>RFC 4180 fields for the CSV files the evaluation tools write.</summary>
public static class CsvText
{
    public static string Field(string value) =>
        value.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;

    /// <summary>Writes a header and rows (already joined into lines) as one UTF-8 file, atomically.</summary>
    public static void WriteFile(string path, string header, IEnumerable<string> lines) =>
        Envs.Imaging.AtomicFile.WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(header + "\n" + string.Join('\n', lines) + "\n"));
}
