namespace VlmRm.Clip.Tokenization;

/// <summary>
/// GPT-2's reversible map from bytes to printable characters, which CLIP's BPE works on: printable
/// bytes map to themselves, the others to U+0100 onwards in byte order.
/// </summary>
internal static class ByteSymbols
{
    static ByteSymbols()
    {
        var printable = new List<int>();
        for (var b = (int)'!'; b <= '~'; b++) printable.Add(b);
        for (var b = 0xA1; b <= 0xAC; b++) printable.Add(b);
        for (var b = 0xAE; b <= 0xFF; b++) printable.Add(b);
        var others = Enumerable.Range(0, 256).Except(printable).ToList();

        ForByte = new string[256];
        foreach (var b in printable) ForByte[b] = ((char)b).ToString();
        for (var n = 0; n < others.Count; n++) ForByte[others[n]] = ((char)(256 + n)).ToString();
        InVocabularyOrder = printable.Concat(others).Select(b => ForByte[b]).ToArray();
    }

    /// <summary>The symbol of each byte value.</summary>
    public static string[] ForByte { get; }

    /// <summary>The 256 symbols in the order CLIP's vocabulary lists them (printable bytes first).</summary>
    public static string[] InVocabularyOrder { get; }
}
