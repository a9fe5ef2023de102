using System.Text;
using VlmRm.Clip.Tokenization;

namespace VlmRm.Clip.Tests;

public class TokenizerTests
{
    [Fact]
    public void The_shipped_merges_file_is_openais_and_sits_beside_the_build()
    {
        Assert.Equal(TokenizerFiles.MergesSha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(TokenizerFiles.BundledMergesFile))));
        var source = Path.Combine(TestSupport.TestPaths.RepositoryRoot, "src", "Clip", "Tokenization", ClipTokenizer.MergesFileName);
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(TokenizerFiles.BundledMergesFile));
    }

    [Fact]
    public void Known_ids_for_a_photo_of_a_cat()
    {
        var tokens = new long[77];
        TokenizerFiles.Require().Tokenize("a photo of a cat", tokens);
        Assert.Equal([49406, 320, 1125, 539, 320, 2368, 49407], tokens[..7]);
        Assert.All(tokens[7..], t => Assert.Equal(0, t));
    }

    [Fact]
    public void Vocabulary_built_from_the_merges_file_equals_hugging_faces_vocab_json()
    {
        var fromMerges = TokenizerFiles.Require();
        var hf = HuggingFace();
        Assert.Equal(49408, fromMerges.VocabularySize);
        Assert.Equal(hf.VocabularySize, fromMerges.VocabularySize);
        foreach (var (token, id) in hf.Vocabulary) Assert.Equal(id, fromMerges.Vocabulary[token]);
    }

    [Fact]
    public void Agrees_with_the_hugging_face_tokenizer_data_on_the_papers_prompts_and_varied_strings()
    {
        var fromMerges = TokenizerFiles.Require();
        var hf = HuggingFace();
        var strings = Reward.PaperPrompts.All.Concat(VariedStrings()).ToList();
        Assert.True(strings.Count >= 300);
        foreach (var text in strings) Assert.Equal(hf.Encode(text), fromMerges.Encode(text));
        // Every word of the paper's prompts maps to the same ids both ways.
        foreach (var word in Reward.PaperPrompts.All.SelectMany(p => p.Split(' ', ',')).Where(w => w.Length > 0).Distinct())
        {
            Assert.Equal(hf.Encode(word), fromMerges.Encode(word));
        }
    }

    [Fact]
    public void Cleans_whitespace_case_and_html_as_clip_does()
    {
        var tokenizer = TokenizerFiles.Require();
        Assert.Equal(tokenizer.Encode("a photo of a cat"), tokenizer.Encode("  A   Photo\tof a\nCAT "));
        Assert.Equal(tokenizer.Encode("cats & dogs"), tokenizer.Encode("cats &amp;amp; dogs"));
        Assert.Equal(tokenizer.Encode("it's"), tokenizer.Encode("it’s"));
        Assert.Equal(tokenizer.Encode("x"), tokenizer.Encode("ｘ"));
    }

    [Fact]
    public void Truncates_to_the_context_length_keeping_the_end_token()
    {
        var tokenizer = TokenizerFiles.Require();
        var tokens = new long[77];
        tokenizer.Tokenize(string.Join(' ', Enumerable.Repeat("humanoid", 200)), tokens);
        Assert.Equal(ClipTokenizer.StartOfText, tokens[0]);
        Assert.Equal(ClipTokenizer.EndOfText, tokens[76]);
        Assert.DoesNotContain(0L, tokens);
    }

    [Fact]
    public void Truncated_or_wrong_merges_file_is_a_clear_error()
    {
        var folder = Directory.CreateTempSubdirectory("vlmrm-tok-").FullName;
        var path = Path.Combine(folder, ClipTokenizer.MergesFileName);
        File.WriteAllText(path, "not gzip");
        Assert.Contains("not a gzip-compressed CLIP merges file", Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromMergesFile(path)).Message);
        using (var gzip = new System.IO.Compression.GZipStream(File.Create(path), System.IO.Compression.CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes("#version: 0.2\nh e\n"));
        }
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromMergesFile(path)).Message);
        Assert.Contains("not found", Assert.Throws<FileNotFoundException>(() => ClipTokenizer.FromMergesFile(Path.Combine(folder, "missing.gz"))).Message);
    }

    private static ClipTokenizer HuggingFace()
    {
        Assert.SkipWhen(TokenizerFiles.HuggingFaceDirectory is null, TokenizerFiles.HuggingFaceMissing);
        var dir = TokenizerFiles.HuggingFaceDirectory!;
        return ClipTokenizer.FromHuggingFaceFiles(Path.Combine(dir, "vocab.json"), Path.Combine(dir, "merges.txt"));
    }

    /// <summary>A few hundred strings: the paper's text, numbers, punctuation, contractions, accents, CJK, emoji.</summary>
    private static IEnumerable<string> VariedStrings()
    {
        var paper = TestSupport.TestPaths.SharedDirectory is { } shared && File.Exists(Path.Combine(shared, "paper", "vlm-rm-paper.txt"))
            ? File.ReadLines(Path.Combine(shared, "paper", "vlm-rm-paper.txt")).Where(l => l.Length is > 20 and < 300).Take(200)
            : [];
        string[] extras =
        [
            "Hello, World!", "don't stop", "I'll we've they're she'd", "3.14159 and 2,718", "CLIP-RN50x64 vs ViT-bigG-14",
            "naïve café résumé", "Müller Straße", "日本語のテキスト", "emoji 🤖🚗⛰️", "tabs\tand\nnewlines",
            "<|startoftext|>inline special<|endoftext|>", "UPPER lower MiXeD", "a--b__c..d", "email@example.com", "#hashtag @mention",
            "x² + y² = z²", "100% success", "(parentheses) [brackets] {braces}", "quote \"this\"", "a humanoid robot kneeling!!!",
        ];
        return paper.Concat(extras).Concat(Enumerable.Range(0, 120).Select(i => $"sample {i} with number {i * 7919 % 1000} and word{i}"));
    }
}
