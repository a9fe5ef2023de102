using System.Globalization;
using System.Text;

namespace VlmRm.Clip.Tokenization;

/// <summary>
/// BERT's uncased WordPiece tokenizer (Devlin et al. 2019; the tokenizer of all-MiniLM-L6-v2 and other sentence
/// encoders): text is cleaned, lower-cased and stripped of accents, split on whitespace and punctuation, and each word
/// is cut greedily into the longest vocabulary pieces from its start, continuation pieces carrying "##". A word that
/// cannot be cut, or is longer than 100 characters, becomes [UNK]. Each text is wrapped in [CLS] … [SEP] and the
/// batch is padded with [PAD] to its longest text, as Hugging Face's BertTokenizer does with padding=True.
/// </summary>
public sealed class WordPieceTokenizer : ITextTokenizer
{
    private const int MaxWordCharacters = 100;
    private const string ContinuationPrefix = "##";

    private readonly Dictionary<string, int> _vocabulary;
    private readonly int _unknown;
    private readonly int _classification;
    private readonly int _separator;
    private readonly int _padding;

    private WordPieceTokenizer(Dictionary<string, int> vocabulary, string source)
    {
        _vocabulary = vocabulary;
        int Special(string token) => vocabulary.TryGetValue(token, out var id)
            ? id
            : throw new InvalidDataException($"{source} has no {token} token: it is not a BERT WordPiece vocabulary.");
        _unknown = Special("[UNK]");
        _classification = Special("[CLS]");
        _separator = Special("[SEP]");
        _padding = Special("[PAD]");
    }

    public int VocabularySize => _vocabulary.Count;

    /// <summary>Loads a vocab.txt (one piece per line, the line number is its id).</summary>
    public static WordPieceTokenizer FromVocabularyFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"WordPiece vocabulary not found: {path} (expected a BERT vocab.txt).", path);
        // A piece's id is its line number.
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        var id = 0;
        foreach (var line in File.ReadLines(path)) vocabulary.TryAdd(line.TrimEnd('\r'), id++);
        return new WordPieceTokenizer(vocabulary, path);
    }

    /// <summary>The pieces of one text, without [CLS]/[SEP] (what BertTokenizer.tokenize returns).</summary>
    public List<string> Pieces(string text)
    {
        var pieces = new List<string>();
        foreach (var word in BasicWords(text)) AppendWordPieces(word, pieces);
        return pieces;
    }

    public TokenBatch TokenizeBatch(IReadOnlyList<string> texts, int contextLength)
    {
        var rows = new List<int>[texts.Count];
        var length = 2;
        for (var i = 0; i < texts.Count; i++)
        {
            var row = new List<int> { _classification };
            foreach (var piece in Pieces(texts[i])) row.Add(_vocabulary.TryGetValue(piece, out var id) ? id : _unknown);
            row.Add(_separator);
            if (row.Count > contextLength) throw PromptLength.TooLong(texts[i], row.Count, contextLength, "WordPiece");
            rows[i] = row;
            length = Math.Max(length, row.Count);
        }
        var ids = new long[texts.Count * length];
        var mask = new long[texts.Count * length];
        ids.AsSpan().Fill(_padding);
        for (var i = 0; i < rows.Length; i++)
        {
            for (var j = 0; j < rows[i].Count; j++)
            {
                ids[i * length + j] = rows[i][j];
                mask[i * length + j] = 1;
            }
        }
        return new TokenBatch(ids, mask, texts.Count, length);
    }

    private void AppendWordPieces(string word, List<string> pieces)
    {
        if (word.Length > MaxWordCharacters)
        {
            pieces.Add("[UNK]");
            return;
        }
        var start = pieces.Count;
        for (var begin = 0; begin < word.Length;)
        {
            string? match = null;
            for (var end = word.Length; end > begin; end--)
            {
                var candidate = begin == 0 ? word[begin..end] : ContinuationPrefix + word[begin..end];
                if (_vocabulary.ContainsKey(candidate))
                {
                    match = candidate;
                    begin = end;
                    break;
                }
            }
            if (match is null)
            {
                pieces.RemoveRange(start, pieces.Count - start);
                pieces.Add("[UNK]");
                return;
            }
            pieces.Add(match);
        }
    }

    /// <summary>BERT's basic tokenizer: clean, lower-case, strip accents, split on whitespace and punctuation (CJK ideographs stand alone).</summary>
    private static IEnumerable<string> BasicWords(string text)
    {
        var word = new StringBuilder();
        foreach (var c in text.ToLowerInvariant().Normalize(NormalizationForm.FormD))
        {
            if (c == 0 || c == 0xFFFD || (char.IsControl(c) && !char.IsWhiteSpace(c))) continue;
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark) continue;
            if (char.IsWhiteSpace(c))
            {
                if (word.Length > 0) yield return Take(word);
                continue;
            }
            if (IsPunctuation(c) || IsCjk(c))
            {
                if (word.Length > 0) yield return Take(word);
                yield return c.ToString();
                continue;
            }
            word.Append(c);
        }
        if (word.Length > 0) yield return Take(word);

        static string Take(StringBuilder builder)
        {
            var s = builder.ToString();
            builder.Clear();
            return s;
        }
    }

    // BERT counts every non-alphanumeric ASCII symbol as punctuation ("$", "^", "`"), plus Unicode's P* classes.
    private static bool IsPunctuation(char c) =>
        c is >= (char)33 and <= (char)47 or >= (char)58 and <= (char)64 or >= (char)91 and <= (char)96 or >= (char)123 and <= (char)126
        || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;

    private static bool IsCjk(char c) => c is >= '\u4E00' and <= '\u9FFF' or >= '\u3400' and <= '\u4DBF' or >= '\uF900' and <= '\uFAFF';
}
