using System.Numerics;

namespace VlmRm.Envs.Mujoco;

/// <summary>The paper's eight Humanoid tasks (Table 1; their prompts in Table 3), in the order Table 1 lists them.</summary>
public enum HumanoidPose
{
    Kneeling,
    LotusPosition,
    Standing,
    ArmsRaised,
    DoingSplits,
    HandsOnHips,
    ArmsCrossed,
    StandingOnOneLeg,
}

/// <summary>The points of the body the pose predicates read.</summary>
public enum HumanoidPart
{
    Torso,
    Head,
    Pelvis,
    LeftHip,
    RightHip,
    LeftKnee,
    RightKnee,
    LeftFoot,
    RightFoot,
    LeftHand,
    RightHand,
}

/// <summary>
/// Where the body is, in world coordinates (metres, z up, the floor at z = 0): each part's point and the torso's axes
/// (forward, left, up; Gymnasium's humanoid faces +x). A part the model lacks is NaN.
/// </summary>
public sealed class HumanoidBodyState(Vector3[] parts, Vector3 torsoForward, Vector3 torsoLeft, Vector3 torsoUp)
{
    private readonly Vector3[] _parts = parts.Length == Enum.GetValues<HumanoidPart>().Length
        ? parts
        : throw new ArgumentException($"A body state needs {Enum.GetValues<HumanoidPart>().Length} parts, got {parts.Length}.", nameof(parts));

    public Vector3 this[HumanoidPart part] => _parts[(int)part];
    public Vector3 TorsoForward { get; } = torsoForward;
    public Vector3 TorsoLeft { get; } = torsoLeft;
    public Vector3 TorsoUp { get; } = torsoUp;

    public double TorsoHeight => this[HumanoidPart.Torso].Z;

    /// <summary>Cosine between the torso's up axis and the world's: 1 upright, 0 lying.</summary>
    public double TorsoUpCosine => TorsoUp.Z;
}

/// <summary>
/// Ground truth for the paper's eight Humanoid tasks, from body geometry alone. The paper judged its rollouts by eye
/// (appendix B, Table 2); these are the checks a person applies, written down with thresholds for the Humanoid-v4
/// body (legs ≈ 0.85 m, torso origin ≈ 1.3 m above the floor when standing):
/// <list type="bullet">
/// <item><b>standing</b>: the torso within Humanoid-v4's healthy height range (1.0–2.0 m) and upright (its up axis
/// within ≈ 37° of vertical, cosine &gt; 0.8).</item>
/// <item><b>kneeling</b>: both knees within 0.2 m of the floor, the torso upright and 0.65–1.0 m high (on the knees,
/// not lying or sitting on the floor: seated with the legs out in front, the torso is ≈ 0.53 m high).</item>
/// <item><b>lotus position</b>: seated (pelvis below 0.35 m, torso upright with cosine &gt; 0.7), both knees low
/// (below 0.3 m) and apart (more than 0.3 m), both feet drawn in (within 0.35 m of the pelvis across the floor).</item>
/// <item><b>arms raised</b>: standing, both hands (the hand spheres' centres) higher than the centre of the head.</item>
/// <item><b>doing splits</b>: the hips low (below 0.5 m), both feet on the floor (below 0.2 m) and at least 1.2 m apart.
/// Humanoid-v4's hips abduct 25° at most, so front splits are what its body can do; the test takes either.</item>
/// <item><b>hands on hips</b>: standing, each hand within 0.2 m of the hip joint on its side.</item>
/// <item><b>arms crossed</b>: standing, each hand past the body's midline on the other side, in front of the torso and
/// between hip and head height.</item>
/// <item><b>standing on one leg</b>: the torso upright above 0.9 m, one foot on the floor (below 0.15 m) and the other
/// at least 0.25 m higher.</item>
/// </list>
/// </summary>
public static class HumanoidPoses
{
    public const double KneeHeight = 0.2;
    public const double UprightCosine = 0.8;

    /// <summary>The parts each predicate reads: a model without one of them cannot be judged in that pose.</summary>
    public static IReadOnlyList<HumanoidPart> PartsFor(HumanoidPose pose) => pose switch
    {
        HumanoidPose.Standing => [HumanoidPart.Torso],
        HumanoidPose.Kneeling => [HumanoidPart.Torso, HumanoidPart.LeftKnee, HumanoidPart.RightKnee],
        HumanoidPose.LotusPosition => [HumanoidPart.Torso, HumanoidPart.Pelvis, HumanoidPart.LeftKnee, HumanoidPart.RightKnee, HumanoidPart.LeftFoot, HumanoidPart.RightFoot],
        HumanoidPose.ArmsRaised => [HumanoidPart.Torso, HumanoidPart.Head, HumanoidPart.LeftHand, HumanoidPart.RightHand],
        HumanoidPose.DoingSplits => [HumanoidPart.LeftHip, HumanoidPart.RightHip, HumanoidPart.LeftFoot, HumanoidPart.RightFoot],
        HumanoidPose.HandsOnHips => [HumanoidPart.Torso, HumanoidPart.LeftHip, HumanoidPart.RightHip, HumanoidPart.LeftHand, HumanoidPart.RightHand],
        HumanoidPose.ArmsCrossed => [HumanoidPart.Torso, HumanoidPart.Head, HumanoidPart.LeftHip, HumanoidPart.RightHip, HumanoidPart.LeftHand, HumanoidPart.RightHand],
        HumanoidPose.StandingOnOneLeg => [HumanoidPart.Torso, HumanoidPart.LeftFoot, HumanoidPart.RightFoot],
        _ => throw new ArgumentOutOfRangeException(nameof(pose), pose, $"Unknown Humanoid task; the tasks: {string.Join(", ", Enum.GetNames<HumanoidPose>())}."),
    };

    public static bool Holds(HumanoidPose pose, HumanoidBodyState body)
    {
        var torso = body[HumanoidPart.Torso];
        bool Upright(double cosine = UprightCosine) => body.TorsoUpCosine > cosine;
        bool Standing() => body.TorsoHeight is > 1.0 and < 2.0 && Upright();
        Vector3 Hips() => (body[HumanoidPart.LeftHip] + body[HumanoidPart.RightHip]) / 2;
        return pose switch
        {
            HumanoidPose.Standing => Standing(),
            HumanoidPose.Kneeling => body[HumanoidPart.LeftKnee].Z < KneeHeight && body[HumanoidPart.RightKnee].Z < KneeHeight
                                     && Upright() && body.TorsoHeight is > 0.65 and < 1.0,
            HumanoidPose.LotusPosition => Lotus(body),
            HumanoidPose.ArmsRaised => Standing()
                                       && body[HumanoidPart.LeftHand].Z > body[HumanoidPart.Head].Z && body[HumanoidPart.RightHand].Z > body[HumanoidPart.Head].Z,
            HumanoidPose.DoingSplits => Hips().Z < 0.5
                                        && body[HumanoidPart.LeftFoot].Z < 0.2 && body[HumanoidPart.RightFoot].Z < 0.2
                                        && Across(body[HumanoidPart.LeftFoot], body[HumanoidPart.RightFoot]) >= 1.2,
            HumanoidPose.HandsOnHips => Standing()
                                        && Vector3.Distance(body[HumanoidPart.LeftHand], body[HumanoidPart.LeftHip]) < 0.2
                                        && Vector3.Distance(body[HumanoidPart.RightHand], body[HumanoidPart.RightHip]) < 0.2,
            HumanoidPose.ArmsCrossed => Standing() && Crossed(body, torso, Hips()),
            HumanoidPose.StandingOnOneLeg => Upright() && body.TorsoHeight > 0.9 && OneFootUp(body[HumanoidPart.LeftFoot].Z, body[HumanoidPart.RightFoot].Z),
            _ => throw new ArgumentOutOfRangeException(nameof(pose), pose, $"Unknown Humanoid task; the tasks: {string.Join(", ", Enum.GetNames<HumanoidPose>())}."),
        };
    }

    private static bool Lotus(HumanoidBodyState body)
    {
        var pelvis = body[HumanoidPart.Pelvis];
        var (leftKnee, rightKnee) = (body[HumanoidPart.LeftKnee], body[HumanoidPart.RightKnee]);
        return pelvis.Z < 0.35 && body.TorsoUpCosine > 0.7
               && leftKnee.Z < 0.3 && rightKnee.Z < 0.3 && Vector3.Distance(leftKnee, rightKnee) > 0.3
               && Across(body[HumanoidPart.LeftFoot], pelvis) < 0.35 && Across(body[HumanoidPart.RightFoot], pelvis) < 0.35;
    }

    /// <summary>Each hand on the far side of the torso's midline, in front of it, between hip and head height.</summary>
    private static bool Crossed(HumanoidBodyState body, Vector3 torso, Vector3 hips)
    {
        var head = body[HumanoidPart.Head];
        bool InFront(Vector3 hand) => Vector3.Dot(hand - torso, body.TorsoForward) > 0.05 && hand.Z > hips.Z && hand.Z < head.Z;
        var (left, right) = (body[HumanoidPart.LeftHand], body[HumanoidPart.RightHand]);
        return InFront(left) && InFront(right)
               && Vector3.Dot(left - torso, body.TorsoLeft) < 0 && Vector3.Dot(right - torso, body.TorsoLeft) > 0;
    }

    private static bool OneFootUp(double left, double right) =>
        (left < 0.15 && right - left >= 0.25) || (right < 0.15 && left - right >= 0.25);

    /// <summary>Distance across the floor (x, y), ignoring height.</summary>
    private static double Across(Vector3 a, Vector3 b) => Math.Sqrt(Math.Pow(a.X - b.X, 2) + Math.Pow(a.Y - b.Y, 2));
}

/// <summary>
/// Reads a <see cref="HumanoidBodyState"/> from a loaded MJCF humanoid by the names Humanoid-v4 and Debian's MuJoCo
/// sample share: the torso, pelvis, thigh, shin and foot bodies (hips, knees and ankles are where those bodies hang;
/// an ankle is within 3 cm of the sole), and the head and hand geoms.
/// </summary>
public sealed class HumanoidSkeleton
{
    private static readonly (HumanoidPart Part, bool IsGeom, string Name)[] Sources =
    [
        (HumanoidPart.Torso, false, "torso"),
        (HumanoidPart.Head, true, "head"),
        (HumanoidPart.Pelvis, false, "pelvis"),
        (HumanoidPart.LeftHip, false, "left_thigh"),
        (HumanoidPart.RightHip, false, "right_thigh"),
        (HumanoidPart.LeftKnee, false, "left_shin"),
        (HumanoidPart.RightKnee, false, "right_shin"),
        (HumanoidPart.LeftFoot, false, "left_foot"),
        (HumanoidPart.RightFoot, false, "right_foot"),
        (HumanoidPart.LeftHand, true, "left_hand"),
        (HumanoidPart.RightHand, true, "right_hand"),
    ];

    private readonly MujocoSimulation _sim;
    private readonly string _modelPath;
    private readonly int[] _ids;

    public HumanoidSkeleton(MujocoSimulation sim, string modelPath)
    {
        _sim = sim;
        _modelPath = modelPath;
        _ids = [.. Sources.Select(s => s.IsGeom ? sim.GeomId(s.Name) : sim.BodyId(s.Name))];
    }

    /// <summary>Throws, naming the missing body or geom, when the model lacks a part the pose's predicate reads.</summary>
    public void Require(HumanoidPose pose)
    {
        foreach (var part in HumanoidPoses.PartsFor(pose))
        {
            if (_ids[(int)part] >= 0) continue;
            var (_, isGeom, name) = Sources[(int)part];
            throw new InvalidDataException(
                $"{_modelPath} has no {(isGeom ? "geom" : "body")} named '{name}', which the {ConfigName(pose)} predicate reads (the {part}); use a Humanoid-v4 model or another task.");
        }
    }

    /// <summary>The body as the last forward pass left it.</summary>
    public HumanoidBodyState Read()
    {
        var xpos = _sim.Xpos;
        var geomXpos = _sim.GeomXpos;
        var parts = new Vector3[Sources.Length];
        for (var i = 0; i < Sources.Length; i++)
        {
            var id = _ids[i];
            var positions = Sources[i].IsGeom ? geomXpos : xpos;
            parts[i] = id < 0 ? new Vector3(float.NaN) : new Vector3((float)positions[id * 3], (float)positions[id * 3 + 1], (float)positions[id * 3 + 2]);
        }
        // xmat is row-major: the torso's local axes are its columns.
        var m = _sim.Xmat.Slice(_ids[(int)HumanoidPart.Torso] * 9, 9);
        return new HumanoidBodyState(parts, Column(m, 0), Column(m, 1), Column(m, 2));

        static Vector3 Column(ReadOnlySpan<double> m, int c) => new((float)m[c], (float)m[3 + c], (float)m[6 + c]);
    }

    /// <summary>A task as configuration files and the command line spell it (snake case: lotus_position).</summary>
    public static string ConfigName(HumanoidPose pose) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(pose.ToString());
}
