namespace VlmRm.Evaluation;

/// <summary>RFC 4180 fields for the CSV files the evaluation tools write.</summary>
public static class CsvText
{
    public static string Field(string value) =>
        value.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
}
