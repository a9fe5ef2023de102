namespace VlmRm.Rl.Labelling;

/// <summary>Where Algorithm 1's rewards come from.</summary>
public enum LabellerKind
{
    /// <summary>The environment's own reward (the paper's ground-truth baselines).</summary>
    GroundTruth,

    /// <summary>R_CLIP of each transition's rendered frame (paper Definition 1).</summary>
    Clip,
}
