using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VlmRm.Abstractions;
using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;

namespace VlmRm.Grains;

/// <summary>One ONNX Runtime session per CLIP model per silo, shared by the silo's reward grains.</summary>
public sealed class ClipModelCache(IOptions<ClipRuntimeOptions> options, ILogger<ClipModelCache> logger) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<OnnxClipModel>> _models = new();
    private readonly ConcurrentDictionary<string, Lazy<ClipRewardModel>> _rewards = new();

    public ClipRewardModel RewardModel(RewardSpec spec) =>
        _rewards.GetOrAdd(spec.Key, _ => new Lazy<ClipRewardModel>(() =>
            new ClipRewardModel(Model(spec.Model), new RewardPrompts(spec.Goal, spec.Baseline), spec.Alpha))).Value;

    /// <summary>The silo's session of a CLIP model, loaded on first use.</summary>
    public OnnxClipModel Model(string name) =>
        _models.GetOrAdd(name, n => new Lazy<OnnxClipModel>(() => OnnxClipModel.Load(n, options.Value, logger))).Value;

    public void Dispose()
    {
        foreach (var model in _models.Values.Where(m => m.IsValueCreated)) model.Value.Dispose();
    }
}
