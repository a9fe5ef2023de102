namespace VlmRm.Envs.Mujoco;

/// <summary>Goal poses with a sound geometric test (paper Table 2's tasks that have one).</summary>
public enum HumanoidPose
{
    /// <summary>Torso (root) height within Humanoid-v4's healthy range and the torso upright.</summary>
    Standing,

    /// <summary>Both knees near the floor, the torso upright and above them.</summary>
    Kneeling,
}

/// <summary>
/// Ground-truth pose predicates on a simulated humanoid. Standing and kneeling have clean geometric
/// tests; the lotus position, the splits, arms raised/crossed, hands on hips and standing on one leg
/// have none we trust (they depend on how a person reads the pose), so they are labelled by people on
/// the labelling page rather than by code.
/// </summary>
public static class HumanoidPoses
{
    public const double KneeHeight = 0.2;
    public const double UprightCosine = 0.8;

    public static bool Holds(HumanoidPose pose, in HumanoidBodyState s) => pose switch
    {
        HumanoidPose.Standing => s.TorsoHeight is > 1.0 and < 2.0 && s.TorsoUpCosine > UprightCosine,
        HumanoidPose.Kneeling => s.LeftKneeHeight < KneeHeight && s.RightKneeHeight < KneeHeight
                                 && s.TorsoUpCosine > UprightCosine && s.TorsoHeight > 0.5 && s.TorsoHeight < 1.0,
        _ => throw new ArgumentOutOfRangeException(nameof(pose), pose, "No geometric test for this pose."),
    };
}

/// <summary>The geometry the predicates read: heights in metres, the torso's up-axis cosine with world z.</summary>
public readonly record struct HumanoidBodyState(double TorsoHeight, double TorsoUpCosine, double LeftKneeHeight, double RightKneeHeight);
