using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace VlmRm.Clip.Tokenization;

/// <summary>
/// CLIP's byte-level BPE tokenizer (OpenAI's simple_tokenizer.py, used unchanged by OpenCLIP): text is
/// cleaned, lower-cased and split by CLIP's pattern; each piece's UTF-8 bytes are mapped to printable
/// characters and merged by rank; the result is wrapped in start/end tokens and padded or truncated to
/// the context length (truncation keeps the end token last, as OpenCLIP does).
/// </summary>
public sealed partial class ClipTokenizer : ITextTokenizer
{
    public const int StartOfText = 49406;
    public const int EndOfText = 49407;
    public const int DefaultContextLength = 77;
    public const string MergesFileName = "bpe_simple_vocab_16e6.txt.gz";

    // The merges file holds more merges than CLIP's vocabulary uses: 49152 - 256 - 2 of them.
    private const int MergeCount = 49152 - 256 - 2;


    private readonly Dictionary<string, int> _encoder;
    private readonly Dictionary<(string, string), int> _ranks;
    private readonly Dictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly Lock _cacheLock = new();

    private ClipTokenizer(Dictionary<string, int> encoder, Dictionary<(string, string), int> ranks)
    {
        _encoder = encoder;
        _ranks = ranks;
    }

    public int VocabularySize => _encoder.Count;

    public IReadOnlyDictionary<string, int> Vocabulary => _encoder;

    /// <summary>Loads CLIP's merges file (<c>bpe_simple_vocab_16e6.txt.gz</c>) and builds the vocabulary from it.</summary>
    public static ClipTokenizer FromMergesFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"CLIP tokenizer merges file not found: {path} (expected {MergesFileName}).", path);
        string[] lines;
        try
        {
            using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
            using var reader = new StreamReader(gzip, Encoding.UTF8);
            lines = reader.ReadToEnd().Split('\n');
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path} is not a gzip-compressed CLIP merges file: {e.Message}", e);
        }
        if (lines.Length < MergeCount + 1)
        {
            throw new InvalidDataException($"{path} holds {lines.Length - 1} merges; CLIP's tokenizer needs {MergeCount}. Is the file truncated?");
        }
        var merges = new List<(string, string)>(MergeCount);
        for (var i = 1; i <= MergeCount; i++) merges.Add(ParseMerge(lines[i], path, i + 1));

        var vocabulary = new List<string>(ByteSymbols.InVocabularyOrder);
        vocabulary.AddRange(ByteSymbols.InVocabularyOrder.Select(v => v + "</w>"));
        vocabulary.AddRange(merges.Select(m => m.Item1 + m.Item2));
        vocabulary.Add("<|startoftext|>");
        vocabulary.Add("<|endoftext|>");
        var encoder = new Dictionary<string, int>(vocabulary.Count, StringComparer.Ordinal);
        for (var i = 0; i < vocabulary.Count; i++) encoder[vocabulary[i]] = i;
        return new ClipTokenizer(encoder, RankMerges(merges));
    }

    /// <summary>Loads the Hugging Face form of the same tokenizer (<c>vocab.json</c> + <c>merges.txt</c>).</summary>
    public static ClipTokenizer FromHuggingFaceFiles(string vocabJsonPath, string mergesTxtPath)
    {
        var encoder = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabJsonPath))
                      ?? throw new InvalidDataException($"{vocabJsonPath}: empty vocabulary.");
        var merges = File.ReadLines(mergesTxtPath)
            .Select((line, index) => (line, index))
            .Where(x => x.line.Length > 0 && !x.line.StartsWith("#version", StringComparison.Ordinal))
            .Select(x => ParseMerge(x.line, mergesTxtPath, x.index + 1))
            .ToList();
        return new ClipTokenizer(new Dictionary<string, int>(encoder, StringComparer.Ordinal), RankMerges(merges));
    }

    /// <summary>Token ids without start/end tokens or padding.</summary>
    public List<int> Encode(string text)
    {
        var ids = new List<int>();
        var cleaned = WhitespaceClean(BasicClean(text)).ToLowerInvariant();
        foreach (Match match in TokenPattern().Matches(cleaned))
        {
            ids.AddRange(EncodePiece(match.Value));
        }
        return ids;
    }

    /// <summary>
    /// Start token, ids, end token, zero-padded to <paramref name="contextLength"/>; longer texts are
    /// truncated with the end token kept in the last slot.
    /// </summary>
    public void Tokenize(string text, Span<long> destination)
    {
        var contextLength = destination.Length;
        var ids = Encode(text);
        destination.Clear();
        destination[0] = StartOfText;
        var count = Math.Min(ids.Count, contextLength - 2);
        for (var i = 0; i < count; i++) destination[i + 1] = ids[i];
        destination[count + 1] = EndOfText;
    }

    public long[] Tokenize(IReadOnlyList<string> texts, int contextLength = DefaultContextLength)
    {
        var result = new long[texts.Count * contextLength];
        for (var i = 0; i < texts.Count; i++) Tokenize(texts[i], result.AsSpan(i * contextLength, contextLength));
        return result;
    }

    /// <summary>Ids padded to the context length (the exported tower is built for it), mask ones through the end token.</summary>
    public TokenBatch TokenizeBatch(IReadOnlyList<string> texts, int contextLength)
    {
        var ids = new long[texts.Count * contextLength];
        var mask = new long[ids.Length];
        for (var i = 0; i < texts.Count; i++)
        {
            var tokens = Encode(texts[i]).Count + 2;
            if (tokens > contextLength) throw PromptLength.TooLong(texts[i], tokens, contextLength, "CLIP BPE");
            Tokenize(texts[i], ids.AsSpan(i * contextLength, contextLength));
            mask.AsSpan(i * contextLength, tokens).Fill(1);
        }
        return new TokenBatch(ids, mask, texts.Count, contextLength);
    }

    private int[] EncodePiece(string piece)
    {
        lock (_cacheLock)
        {
            if (_cache.TryGetValue(piece, out var cached)) return cached;
        }
        int[] ids;
        if (piece is "<|startoftext|>" or "<|endoftext|>")
        {
            ids = [_encoder[piece]];
        }
        else
        {
            var bytes = Encoding.UTF8.GetBytes(piece);
            var symbols = new List<string>(bytes.Length);
            foreach (var b in bytes) symbols.Add(ByteSymbols.ForByte[b]);
            symbols[^1] += "</w>";
            ApplyMerges(symbols);
            ids = new int[symbols.Count];
            for (var i = 0; i < symbols.Count; i++)
            {
                ids[i] = _encoder.TryGetValue(symbols[i], out var id)
                    ? id
                    : throw new InvalidDataException($"BPE symbol '{symbols[i]}' is not in the vocabulary; the merges and vocabulary files do not belong together.");
            }
        }
        lock (_cacheLock) _cache[piece] = ids;
        return ids;
    }

    /// <summary>Repeatedly merges the adjacent pair of lowest rank, every occurrence left to right, until none is mergeable.</summary>
    private void ApplyMerges(List<string> word)
    {
        while (word.Count > 1)
        {
            var bestRank = int.MaxValue;
            (string, string) best = default;
            for (var i = 0; i < word.Count - 1; i++)
            {
                if (_ranks.TryGetValue((word[i], word[i + 1]), out var rank) && rank < bestRank)
                {
                    bestRank = rank;
                    best = (word[i], word[i + 1]);
                }
            }
            if (bestRank == int.MaxValue) return;
            var merged = new List<string>(word.Count);
            for (var i = 0; i < word.Count; i++)
            {
                if (i < word.Count - 1 && word[i] == best.Item1 && word[i + 1] == best.Item2)
                {
                    merged.Add(best.Item1 + best.Item2);
                    i++;
                }
                else
                {
                    merged.Add(word[i]);
                }
            }
            word.Clear();
            word.AddRange(merged);
        }
    }

    /// <summary>
    /// CLIP's basic_clean: ftfy.fix_text, then HTML-unescape twice, then strip. ftfy is a Python library;
    /// the parts of it that change ordinary prompts are reproduced (NFC, straight quotes, Latin ligatures,
    /// full-width forms, control characters); its mojibake repair is not.
    /// </summary>
    internal static string BasicClean(string text)
    {
        var fixedText = FixText(text);
        return WebUtility.HtmlDecode(WebUtility.HtmlDecode(fixedText)).Trim();
    }

    internal static string WhitespaceClean(string text) => Whitespace().Replace(text, " ").Trim();

    private static string FixText(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            var value = rune.Value;
            switch (value)
            {
                case 0x2018 or 0x2019 or 0x201A or 0x201B:
                    builder.Append('\'');
                    continue;
                case 0x201C or 0x201D or 0x201E or 0x201F:
                    builder.Append('"');
                    continue;
                case >= 0xFB00 and <= 0xFB06: // Latin ligatures
                case >= 0xFF01 and <= 0xFF5E: // full-width ASCII
                    builder.Append(rune.ToString().Normalize(NormalizationForm.FormKC));
                    continue;
            }
            if (Rune.GetUnicodeCategory(rune) == UnicodeCategory.Control && value is not ('\n' or '\t' or '\r')) continue;
            builder.Append(rune.ToString());
        }
        return builder.ToString().Normalize(NormalizationForm.FormC);
    }

    private static (string, string) ParseMerge(string line, string path, int lineNumber)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 2 ? (parts[0], parts[1]) : throw new InvalidDataException($"{path}:{lineNumber}: a merge line holds two symbols, got '{line}'.");
    }

    private static Dictionary<(string, string), int> RankMerges(List<(string, string)> merges)
    {
        var ranks = new Dictionary<(string, string), int>(merges.Count);
        for (var i = 0; i < merges.Count; i++) ranks.TryAdd(merges[i], i);
        return ranks;
    }

    [GeneratedRegex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex TokenPattern();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
