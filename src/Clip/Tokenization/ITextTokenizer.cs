namespace VlmRm.Clip.Tokenization;

/// <summary>
/// Token ids and attention mask of a batch of texts, row-major [Count, Length]. Length is the context length for
/// towers built for a fixed one (CLIP) and the longest text's length for towers that take any (BERT family).
/// </summary>
public sealed record TokenBatch(long[] Ids, long[] Mask, int Count, int Length);

/// <summary>What a text tower's tokenizer does for the reward path: texts in, ids and mask out.</summary>
public interface ITextTokenizer
{
    /// <summary>
    /// Tokenizes every text. A text longer than <paramref name="contextLength"/> tokens is refused with an error that
    /// names it: a silently cut prompt is a different reward than the one the user wrote.
    /// </summary>
    TokenBatch TokenizeBatch(IReadOnlyList<string> texts, int contextLength);
}

/// <summary>The refusal of a text that does not fit the text tower's context.</summary>
public static class PromptLength
{
    public static ArgumentException TooLong(string text, int tokens, int contextLength, string tokenizer) => new(
        $"The text \"{text}\" is {tokens} tokens with {tokenizer}'s start and end tokens; the text tower reads at most {contextLength} " +
        "(context_length in model.json). Shorten it: VlmRm does not cut a prompt silently.");
}
