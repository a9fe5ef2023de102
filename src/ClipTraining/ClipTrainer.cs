using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using VlmRm.Clip.Models;
using VlmRm.Clip.Preprocessing;
using VlmRm.Clip.Tokenization;
using VlmRm.ClipTraining.Captions;
using VlmRm.ClipTraining.Data;
using VlmRm.ClipTraining.Model;
using VlmRm.Envs.Imaging;
using VlmRm.Rl.Algorithms;
using static TorchSharp.torch;

namespace VlmRm.ClipTraining;

/// <summary>One point of the training curve.</summary>
public sealed record ClipTrainingPoint(int Step, double Loss, double LogitScale, double PairsPerSecond);

/// <summary>
/// The tensors of one training step: pixels [N, 3, S, S]; texts as token ids [T, L] or locked embeddings [T, D], the
/// batch's C captions first; targets [N, C], 1 where caption k is true of frame i; off-scene [N, T], 1 where text k is
/// about something other than frame i's scene; and for each scene of the batch, the rows of its frames.
/// </summary>
public sealed record StepTensors(Tensor Pixels, Tensor Text, Tensor Targets, Tensor OffScene, Tensor[] SceneRows) : IDisposable
{
    public void Dispose()
    {
        foreach (var tensor in (Tensor[])[Pixels, Text, Targets, OffScene, .. SceneRows]) tensor.Dispose();
    }
}

/// <summary>
/// Contrastive training of <see cref="ClipModule"/> on rendered frames and grammar captions, as CLIP is trained
/// (Radford et al. 2021) with one change: a caption is a positive for every frame in the batch it is true of, not
/// only for the frame it was written for, because generic captions ("a cart with a pole") fit many frames.
/// The loss is the symmetric InfoNCE over those targets, image→text and text→image averaged:
///   L = ½ [ CE(softmax_rows(τ·I·Tᵀ), M/rowsum) + CE(softmax_rows(τ·T·Iᵀ), Mᵀ/rowsum) ],
/// with I, T the L2-normalized embeddings, τ the learned logit scale and M[i,k] = 1 when caption k is true of frame i.
/// (One-hot targets, each frame's own caption only, learned the pole's angle no better in the same steps.)
/// The run checkpoints every <see cref="ClipTrainingOptions.CheckpointEvery"/> steps and resumes from there.
/// </summary>
public sealed class ClipTrainer : IDisposable
{
    private const string StateMagic = "VLMRMCT1";

    /// <summary>Unrelated sentences drawn into each step's off-scene term (a quarter of a 128-pair batch's captions).</summary>
    private const int UnrelatedPerStep = 32;

    private readonly ClipTrainingOptions _options;
    private readonly string _stateFile;
    private readonly ClipModule _model;
    private readonly AdamOptimizer _optimizer;
    private readonly ISceneSource[] _sources;
    private readonly ClipTokenizer _tokenizer;
    private readonly OnnxTextTower? _lockedText;
    private readonly PretrainedImageTower? _lockedImage;
    private readonly InferenceSession? _lockedImageSession;
    private readonly ConcurrentDictionary<int, Batch> _featureBatches = new();
    private readonly ConcurrentDictionary<string, float[]> _captionEmbeddings = new(StringComparer.Ordinal);
    private readonly ClipPreprocessor _preprocessor;
    private readonly CaptionGrammar _grammar = CaptionGrammar.Default;
    private readonly byte[] _frames;
    private readonly float[][] _pixelBuffers;
    private readonly Tensor[] _pixelTensors;
    private readonly List<ClipTrainingPoint> _curve = [];
    private readonly LearningRateSchedule _schedule;
    private Task<Batch>? _nextBatch;

    public ClipTrainer(ClipTrainingOptions options, string workDirectory, string tokenizerPath)
    {
        options.Validate();
        _options = options;
        var locked = options.TextTower is { } towerName ? PretrainedTextTowers.Get(towerName) : null;
        var architecture = TrainedClipSizes.Get(options.Size);
        Architecture = locked is null ? architecture : architecture with { EmbedDim = locked.EmbedDim };
        torch.set_num_threads(options.Threads > 0 ? options.Threads : Environment.ProcessorCount);
        torch.manual_seed(options.Seed);
        _lockedImage = options.ImageTower is { } imageTowerName ? PretrainedImageTowers.Get(imageTowerName) : null;
        _model = new ClipModule(Architecture, withTextTower: locked is null, lockedTextHead: locked is not null && options.TextHead, lockedImageFeatures: _lockedImage?.FeatureDim ?? 0);
        // The locked tower runs on the thread that draws the next batch, beside the training step: one thread of its own.
        if (locked is not null) _lockedText = OnnxTextTower.OpenPretrained(locked, Path.Combine(workDirectory, "text-tower", locked.Name), threads: 1);
        if (_lockedImage is not null) _lockedImageSession = OpenLockedImageTower(_lockedImage, Path.Combine(workDirectory, "image-tower", _lockedImage.Name), options.Threads);
        _schedule = new LearningRateSchedule { PeakRate = options.LearningRate, WarmupSteps = options.WarmupSteps, Steps = options.Steps, UntilPlateau = options.UntilPlateau, Window = options.PlateauWindow };
        _optimizer = new AdamOptimizer(_model.parameters().Where(p => p.requires_grad), options.LearningRate, weightDecay: options.WeightDecay);
        _tokenizer = ClipTokenizer.FromMergesFile(tokenizerPath);
        // The normalization the exported folder records and inference applies: model.json's default, or the locked tower's own.
        _preprocessor = _lockedImage is { } tower
            ? new ClipPreprocessor(tower.ImageSize, tower.Mean, tower.Std)
            : new ClipPreprocessor(Architecture.ImageSize, ClipPreprocessor.OpenAiMean, ClipPreprocessor.OpenAiStd);
        var imageSize = Architecture.ImageSize;
        _sources = new ISceneSource[options.Envs.Count];
        try
        {
            for (var i = 0; i < _sources.Length; i++) _sources[i] = SceneSources.Create(options.Envs[i], imageSize, options.AssetsDirectory, options.HumanoidPool, options.Seed + i);
        }
        catch
        {
            Dispose();
            throw;
        }
        _frames = new byte[options.BatchSize * imageSize * imageSize * 3];
        // Two pixel buffers and tensors over the same memory: the next batch is preprocessed into one while the
        // current step reads the other, and no pixel is copied between them.
        _pixelBuffers = [new float[options.BatchSize * _preprocessor.FloatsPerImage], new float[options.BatchSize * _preprocessor.FloatsPerImage]];
        _pixelTensors = [.. _pixelBuffers.Select(buffer =>
        {
            using var flat = frombuffer(buffer, ScalarType.Float32);
            return flat.view(options.BatchSize, 3, imageSize, imageSize).DetachFromDisposeScope();
        })];
        Directory.CreateDirectory(workDirectory);
        _stateFile = Path.Combine(workDirectory, "training-state.bin");
        Resumed = TryResume();
    }

    public Clip.Export.ClipArchitecture Architecture { get; }
    public ClipModule Model => _model;
    public int Step { get; private set; }
    public bool Resumed { get; }
    public IReadOnlyList<ClipTrainingPoint> Curve => _curve;
    public bool IsComplete => _schedule.IsComplete(_curve);

    /// <summary>Until-plateau runs: the step the loss stopped falling at (the rate's decay began there); null while it falls or when the cap forced the decay.</summary>
    public int? Plateau => _schedule.Plateau(_curve);

    /// <summary>A fingerprint of everything that shapes the run: a checkpoint of another recipe is never resumed.</summary>
    public string RecipeHash => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
        $"scenes v{SceneSources.Version} " + JsonSerializer.Serialize(_options with { Steps = 0, Threads = 0, CheckpointEvery = 0, Name = null }))))[..16];

    /// <summary>Trains until the schedule is done (its steps, or its decay after the loss's plateau), checkpointing on schedule; returns the last curve point.</summary>
    public ClipTrainingPoint? Train(IProgress<ClipTrainingPoint>? progress = null, CancellationToken cancellationToken = default)
    {
        while (!IsComplete && !cancellationToken.IsCancellationRequested)
        {
            var point = TrainStep();
            progress?.Report(point);
            if (Step % _options.CheckpointEvery == 0 || IsComplete) SaveState();
        }
        return _curve.LastOrDefault();
    }

    /// <summary>
    /// One optimizer step on a fresh batch. The batch of the following step is drawn (rendered, captioned,
    /// preprocessed) on another thread meanwhile: a batch depends only on the seed and its step number, so drawing
    /// it early changes nothing but the time the step takes.
    /// </summary>
    public ClipTrainingPoint TrainStep()
    {
        var clock = Stopwatch.StartNew();
        var step = Step;
        var batch = _nextBatch?.GetAwaiter().GetResult() is { } prefetched && prefetched.Step == step ? prefetched : DrawBatch(step);
        _nextBatch = step + 1 < _options.Steps ? Task.Run(() => DrawBatch(step + 1)) : null;
        _model.train();
        _optimizer.LearningRate = _schedule.RateAt(_curve);
        double loss, scale;
        using (var scope = NewDisposeScope())
        {
            var total = ContrastiveLoss(_model, Tensors(batch), _options.OffSceneWeight);
            _optimizer.zero_grad();
            total.backward();
            _optimizer.step();
            loss = total.item<float>();
            scale = _model.LogitScale.item<float>();
        }
        if (!double.IsFinite(loss)) throw new InvalidOperationException($"CLIP training diverged at step {Step}: the loss is {loss}. Lower the learning rate (now {_options.LearningRate}).");
        Step++;
        var point = new ClipTrainingPoint(Step, loss, scale, _options.BatchSize / clock.Elapsed.TotalSeconds);
        _curve.Add(point);
        return point;
    }

    /// <summary>
    /// Symmetric InfoNCE with several positives: targets[i, k] is 1 where caption k is true of frame i, and each row
    /// (image→text) and column (text→image) spreads its target evenly over its positives. With an off-scene weight
    /// λ > 0 it adds λ·τ²·(the mean variance, over one scene's frames, of each text about something else): a caption of
    /// another environment or an unrelated sentence (<see cref="UnrelatedScenes"/>) as a goal prompt gives every frame
    /// of this scene the same score, so it carries no reward. InfoNCE alone only ranks such a text below the frame's
    /// own captions; how its score moves with the state is left free, and in the locked MiniLM space it moved with the
    /// goal (EPIC 0.57–0.64 for other tasks' prompts and a city street, where 0.71 is chance). τ is held constant in the
    /// term (the spread is measured in the logits InfoNCE sees without the term pulling τ down). Measured at λ = 1 on
    /// the locked MiniLM tower it flattened the other tasks' prompts but not the held-out unrelated sentences, and cost
    /// on-task sentences (docs/REPRODUCTION.md): it is an option, 0 by default.
    /// </summary>
    public static Tensor ContrastiveLoss(ClipModule model, StepTensors batch, double offSceneWeight)
    {
        var image = nn.functional.normalize(model.EncodeImage(batch.Pixels), dim: 1);
        var text = nn.functional.normalize(model.HasTextTower ? model.EncodeText(batch.Text) : model.ProjectLockedText(batch.Text), dim: 1);
        var cosines = image.matmul(text.t());
        var targets = batch.Targets;
        var scale = model.LogitScale;
        var logits = scale * cosines.narrow(1, 0, targets.shape[1]);
        var imageToText = -(targets / targets.sum(1, keepdim: true) * logits.log_softmax(1)).sum(1).mean();
        var textToImage = -(targets.t() / targets.t().sum(1, keepdim: true) * logits.t().log_softmax(1)).sum(1).mean();
        var contrastive = imageToText.Plus(textToImage) * HeldScalars.Of(0.5);
        if (offSceneWeight == 0) return contrastive;
        return contrastive.Plus(OffSceneSpread(cosines, batch) * scale.detach().square() * HeldScalars.Of(offSceneWeight));
    }

    /// <summary>Per scene of the batch, the variance over its frames of each off-scene text's cosine, averaged over those texts; then over scenes.</summary>
    public static Tensor OffSceneSpread(Tensor cosines, StepTensors batch)
    {
        Tensor? total = null;
        foreach (var rows in batch.SceneRows)
        {
            var offScene = batch.OffScene.index_select(0, rows.narrow(0, 0, 1)).squeeze(0); // the same for every frame of the scene
            var spread = (cosines.index_select(0, rows).var(0, unbiased: false) * offScene).sum() / offScene.sum().clamp_min(HeldScalars.Of(1));
            total = total is null ? spread : total.Plus(spread);
        }
        return total! / HeldScalars.Of(batch.SceneRows.Length);
    }

    /// <summary>
    /// The tensors step <paramref name="step"/> trains on, drawn the way the step draws them: what a loop without the
    /// data path needs to redo the same work. The pixels are the caller's own copy.
    /// </summary>
    public StepTensors BatchTensors(int step)
    {
        // Batches share the frame buffer, so the one being drawn ahead is finished (and used, if it is this step's) first.
        var pending = _nextBatch?.GetAwaiter().GetResult();
        _nextBatch = null;
        var tensors = Tensors(pending is not null && pending.Step == step ? pending : DrawBatch(step));
        return tensors with { Pixels = tensors.Pixels.clone() }; // the trainer draws into its own pixel tensors again
    }

    private StepTensors Tensors(Batch batch)
    {
        var texts = batch.Texts.Count;
        var n = _options.BatchSize;
        var offScene = new float[n * texts];
        for (var i = 0; i < n; i++)
        {
            for (var k = 0; k < texts; k++) offScene[i * texts + k] = batch.TextScenes[k] == batch.FrameScenes[i] ? 0 : 1;
        }
        var sceneRows = batch.FrameScenes.Select((scene, frame) => (scene, frame)).GroupBy(x => x.scene)
            .Select(g => tensor(g.Select(x => (long)x.frame).ToArray())).ToArray();
        return new StepTensors(
            batch.Pixels,
            batch.TextEmbeddings is { } embedded ? tensor(embedded, [texts, Architecture.EmbedDim]) : TokenTensor(batch.TokenIds!, texts),
            tensor(batch.Targets, [n, batch.CaptionCount]),
            tensor(offScene, [n, texts]),
            sceneRows);
    }

    /// <summary>Text embeddings [N, EmbedDim] as training sees them: the module's own text tower or the locked one.</summary>
    public float[] EmbedTexts(IReadOnlyList<string> texts)
    {
        if (_lockedText is not null)
        {
            using var __ = no_grad();
            using var locked = tensor(_lockedText.Embed(texts), [texts.Count, Architecture.EmbedDim]);
            using var projected = _model.ProjectLockedText(locked);
            return ClipModule.Values(projected);
        }
        using var _ = no_grad();
        using var tokens = Tokens(texts);
        using var embeddings = _model.EncodeText(tokens);
        return ClipModule.Values(embeddings);
    }

    /// <summary>Token ids [N, L] cut after the longest text's end token (exact under the causal mask, see <see cref="ClipModule.EncodeText"/>).</summary>
    public Tensor Tokens(IReadOnlyList<string> texts) => TokenTensor(_tokenizer.Tokenize(texts, Architecture.ContextLength), texts.Count);

    /// <summary>The locked tower's embeddings of the batch's texts [T × D], each text embedded once per run.</summary>
    private float[] LockedEmbeddings(OnnxTextTower tower, List<string> texts)
    {
        var missing = texts.Where(t => !_captionEmbeddings.ContainsKey(t)).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            var fresh = tower.Embed(missing);
            for (var i = 0; i < missing.Count; i++) _captionEmbeddings[missing[i]] = fresh.AsSpan(i * tower.EmbedDim, tower.EmbedDim).ToArray();
        }
        var result = new float[texts.Count * tower.EmbedDim];
        for (var k = 0; k < texts.Count; k++) _captionEmbeddings[texts[k]].CopyTo(result, k * tower.EmbedDim);
        return result;
    }

    private Tensor TokenTensor(long[] ids, int count)
    {
        var context = Architecture.ContextLength;
        var length = 0;
        for (var i = 0; i < count; i++) length = Math.Max(length, ids.AsSpan(i * context, context).IndexOf(ClipTokenizer.EndOfText) + 1);
        return tensor(ids, [count, context]).narrow(1, 0, length);
    }

    /// <summary>
    /// A step's batch: its pixels; its texts, the distinct captions first and then (with the off-scene term) unrelated
    /// sentences, as token ids or locked embeddings; which caption is true of which frame; and the scene of each frame
    /// and each text (−1: an unrelated sentence, of no scene).
    /// </summary>
    private sealed record Batch(int Step, Tensor Pixels, List<string> Texts, int CaptionCount, long[]? TokenIds, float[]? TextEmbeddings, float[] Targets, int[] FrameScenes, int[] TextScenes);

    /// <summary>
    /// The batch of a step. With a locked image tower the head trains on <see cref="ClipTrainingOptions.FeatureBatches"/>
    /// batches in turn, each embedded by the tower once: its pixels are replaced by the tower's pooled features [N, F].
    /// </summary>
    private Batch DrawBatch(int step)
    {
        if (_lockedImageSession is null) return DrawFrames(step);
        var cached = _featureBatches.GetOrAdd(step % _options.FeatureBatches, index =>
        {
            var frames = DrawFrames(index);
            return frames with { Pixels = LockedImageFeatures(_pixelBuffers[index % 2], _options.BatchSize) };
        });
        return cached with { Step = step };
    }

    /// <summary>The locked image tower's pooled features [count, F] of preprocessed pixels, in chunks that bound its activations' memory.</summary>
    private Tensor LockedImageFeatures(float[] pixels, int count)
    {
        const int Chunk = 32;
        var session = _lockedImageSession!;
        var tower = _lockedImage!;
        var width = tower.FeatureDim;
        var floatsPerImage = _preprocessor.FloatsPerImage;
        var features = new float[count * width];
        using var run = new RunOptions();
        for (var start = 0; start < count; start += Chunk)
        {
            var n = Math.Min(Chunk, count - start);
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels.AsMemory(start * floatsPerImage, n * floatsPerImage), [n, 3, tower.ImageSize, tower.ImageSize]);
            using var output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, features.AsMemory(start * width, n * width), [n, width, 1, 1]);
            session.Run(run, [tower.Tower.Input], [input], [tower.Tower.Output], [output]);
        }
        return tensor(features, [count, width]).DetachFromDisposeScope();
    }

    /// <summary>Image embeddings [count, D] of preprocessed pixels as training sees them: the ViT, or the locked tower and its head.</summary>
    public float[] EmbedImages(float[] pixels, int count)
    {
        using var _ = no_grad();
        var size = _preprocessor.ImageSize;
        using var input = _lockedImageSession is null ? tensor(pixels, [count, 3, size, size]) : LockedImageFeatures(pixels, count);
        using var embeddings = _model.EncodeImage(input);
        return ClipModule.Values(embeddings);
    }

    private static InferenceSession OpenLockedImageTower(PretrainedImageTower tower, string folder, int threads)
    {
        Directory.CreateDirectory(folder);
        PackagedFiles.RestoreMissing(folder, [tower.File]);
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads > 0 ? threads : Environment.ProcessorCount };
        return new InferenceSession(Path.Combine(folder, tower.File.File), options);
    }

    private Batch DrawFrames(int step)
    {
        var random = new Random(unchecked(_options.Seed * 1_000_003 + step)); // HashCode.Combine differs between processes
        var pixels = _pixelTensors[step % 2];
        var pixelBuffer = _pixelBuffers[step % 2];
        var n = _options.BatchSize;
        var frameBytes = Architecture.ImageSize * Architecture.ImageSize * 3;
        var facts = new IReadOnlySet<SceneFact>[n];
        var captions = new List<Caption>();
        var index = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            facts[i] = _sources[i % _sources.Length].Draw(random, _frames.AsSpan(i * frameBytes, frameBytes));
            var caption = _grammar.Sample(facts[i], random);
            if (index.Add(caption.Text)) captions.Add(caption);
        }
        _preprocessor.Preprocess(_frames, n, Architecture.ImageSize, Architecture.ImageSize, pixelBuffer);
        var scenes = new Dictionary<string, int>(StringComparer.Ordinal);
        int SceneNumber(IEnumerable<SceneFact> facts)
        {
            var scene = facts.First(f => f.Key == "scene").Value;
            return scenes.TryGetValue(scene, out var number) ? number : scenes[scene] = scenes.Count;
        }
        var frameScenes = facts.Select(SceneNumber).ToArray();
        var texts = captions.Select(c => c.Text).ToList();
        var textScenes = captions.Select(c => SceneNumber(c.Facts)).ToList();
        if (_options.OffSceneWeight > 0)
        {
            var unrelated = UnrelatedScenes.Sentences;
            for (var u = 0; u < UnrelatedPerStep; u++) texts.Add(unrelated[random.Next(unrelated.Count)]);
            textScenes.AddRange(Enumerable.Repeat(-1, UnrelatedPerStep));
        }
        // Tokenized (or embedded by the locked tower) here, on the thread that draws the next batch, not on the training thread.
        var targets = Targets(facts, captions);
        return _lockedText is { } locked
            ? new Batch(step, pixels, texts, captions.Count, null, LockedEmbeddings(locked, texts), targets, frameScenes, [.. textScenes])
            : new Batch(step, pixels, texts, captions.Count, _tokenizer.Tokenize(texts, Architecture.ContextLength), null, targets, frameScenes, [.. textScenes]);
    }

    /// <summary>
    /// M[i, k] = 1 where caption k is true of frame i (<see cref="Caption.IsTrueOf"/>), with the batch's facts numbered
    /// so that each test is a few word ANDs instead of hashing every fact's strings (a tenth of a small step's drawing).
    /// </summary>
    public static float[] Targets(IReadOnlyList<IReadOnlySet<SceneFact>> facts, IReadOnlyList<Caption> captions)
    {
        var numbers = new Dictionary<SceneFact, int>();
        foreach (var frame in facts)
        {
            foreach (var fact in frame) numbers.TryAdd(fact, numbers.Count);
        }
        var words = (numbers.Count + 63) / 64;
        var frameBits = new ulong[facts.Count * words];
        for (var i = 0; i < facts.Count; i++)
        {
            foreach (var fact in facts[i]) Set(frameBits, i * words, numbers[fact]);
        }
        var captionBits = new ulong[captions.Count * words];
        var possible = new bool[captions.Count]; // false when a caption asserts a fact no frame of the batch shows
        for (var k = 0; k < captions.Count; k++)
        {
            possible[k] = true;
            foreach (var fact in captions[k].Facts)
            {
                if (numbers.TryGetValue(fact, out var number)) Set(captionBits, k * words, number);
                else possible[k] = false;
            }
        }
        var targets = new float[facts.Count * captions.Count];
        for (var i = 0; i < facts.Count; i++)
        {
            var frame = frameBits.AsSpan(i * words, words);
            for (var k = 0; k < captions.Count; k++)
            {
                if (!possible[k]) continue;
                var caption = captionBits.AsSpan(k * words, words);
                var holds = true;
                for (var w = 0; w < words && holds; w++) holds = (frame[w] & caption[w]) == caption[w];
                if (holds) targets[i * captions.Count + k] = 1;
            }
        }
        return targets;

        static void Set(ulong[] bits, int start, int number) => bits[start + number / 64] |= 1UL << (number % 64);
    }


    private void SaveState()
    {
        using var memory = new MemoryStream();
        using (var writer = new BinaryWriter(memory, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(StateMagic);
            writer.Write(RecipeHash);
            writer.Write(Step);
            writer.Write(_curve.Count);
            foreach (var p in _curve)
            {
                writer.Write(p.Step);
                writer.Write(p.Loss);
                writer.Write(p.LogitScale);
                writer.Write(p.PairsPerSecond);
            }
            _model.save(writer);
            _optimizer.Save(writer);
        }
        AtomicFile.WriteAllBytes(_stateFile, memory.ToArray());
    }

    private bool TryResume()
    {
        if (!File.Exists(_stateFile)) return false;
        try
        {
            using var reader = new BinaryReader(File.OpenRead(_stateFile), Encoding.UTF8);
            if (reader.ReadString() != StateMagic) throw new InvalidDataException("not a CLIP training state");
            if (reader.ReadString() != RecipeHash) return false; // another recipe's state: start over, the model folder is untouched
            var step = reader.ReadInt32();
            var count = reader.ReadInt32();
            var curve = new List<ClipTrainingPoint>(count);
            for (var i = 0; i < count; i++) curve.Add(new ClipTrainingPoint(reader.ReadInt32(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble()));
            _model.load(reader);
            _optimizer.Load(reader);
            Step = step;
            _curve.AddRange(curve);
            return true;
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException or ArgumentException)
        {
            throw new InvalidDataException($"{_stateFile}: the CLIP training state is damaged ({e.Message}); delete it to start the run over.", e);
        }
    }

    /// <summary>The curve as CSV (step, loss, logit scale, pairs/s).</summary>
    public string CurveCsv()
    {
        var csv = new StringBuilder("step,loss,logit_scale,pairs_per_second\n");
        foreach (var p in _curve) csv.Append(CultureInfo.InvariantCulture, $"{p.Step},{p.Loss:G6},{p.LogitScale:G6},{p.PairsPerSecond:F1}\n");
        return csv.ToString();
    }

    public void DeleteState() => File.Delete(_stateFile);

    public void Dispose()
    {
        try
        {
            _nextBatch?.Wait(); // the sources are in use until the batch being drawn is done
        }
        catch (AggregateException)
        {
            // A failed prefetch has nothing left to release; the step that would have used it reported nothing yet.
        }
        foreach (var source in _sources) source?.Dispose();
        _lockedText?.Dispose();
        _lockedImageSession?.Dispose();
        foreach (var batch in _featureBatches.Values) batch.Pixels.Dispose();
        foreach (var pixels in _pixelTensors ?? []) pixels?.Dispose();
        _optimizer.Dispose();
        _model.Dispose();
    }
}
