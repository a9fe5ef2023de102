using System.Numerics;

namespace VlmRm.Envs.Mujoco;

/// <summary>
/// Posed humanoids for labelled sets and reward-model training: joint angles set directly, each within its joint's
/// range, the body turned to a root orientation and lowered until its lowest point touches the floor, then (if asked)
/// settled by a few physics steps. Random-policy frames almost never show the splits or a lotus seat; these do.
/// A draw is either one of the eight tasks' templates (<see cref="Templates"/>) with noise on every joint, or a
/// posture with every joint uniform in its range, standing, tilted or lying.
/// </summary>
public sealed class HumanoidPoseGenerator
{
    /// <summary>
    /// Joint angles (degrees, Humanoid-v4's joint names) and root pitch for each task, checked against
    /// <see cref="HumanoidPoses"/> on the Humanoid-v4 body (Envs.Tests); a joint a template leaves out stays at 0.
    /// The arms' angles are the grid point (5° steps over the joints' ranges) whose ±10° neighbours all pass the
    /// task's predicate too, so the templates' noise keeps most draws in the pose.
    /// </summary>
    public static IReadOnlyDictionary<HumanoidPose, PoseTemplate> Templates { get; } = new Dictionary<HumanoidPose, PoseTemplate>
    {
        [HumanoidPose.Standing] = new(0, new Dictionary<string, double>()),
        [HumanoidPose.Kneeling] = new(0, new Dictionary<string, double> { ["left_knee"] = -95, ["right_knee"] = -95 }),
        [HumanoidPose.LotusPosition] = new(0, new Dictionary<string, double>
        {
            ["left_hip_y"] = -78, ["right_hip_y"] = -78, ["left_hip_x"] = -25, ["right_hip_x"] = -25,
            ["left_hip_z"] = -40, ["right_hip_z"] = -40, ["left_knee"] = -160, ["right_knee"] = -160,
        }),
        [HumanoidPose.ArmsRaised] = new(0, Arms(shoulder1: -75, shoulder2: -45, elbow: -20)),
        // The legs 130° apart (all the hips allow), the pelvis tipped 45° so they straddle the vertical: 30° by the
        // abdomen, 15° by the torso leaning forward.
        [HumanoidPose.DoingSplits] = new(15, new Dictionary<string, double>
        {
            ["right_hip_y"] = -110, ["left_hip_y"] = 20, ["right_knee"] = -2, ["left_knee"] = -2, ["abdomen_y"] = 30,
        }),
        [HumanoidPose.HandsOnHips] = new(0, Arms(shoulder1: 50, shoulder2: -65, elbow: -30)),
        [HumanoidPose.ArmsCrossed] = new(0, Arms(shoulder1: 50, shoulder2: 30, elbow: -40)),
        [HumanoidPose.StandingOnOneLeg] = new(0, new Dictionary<string, double> { ["left_hip_y"] = -90, ["left_knee"] = -90 }),
    };

    /// <summary>
    /// Postures one feature away from a task, each named and keyed by the task it nearly is: what an agent rewarded for
    /// that task reaches on its way or instead (a lunge instead of kneeling, a squat, hands and knees). A reward model
    /// that scores them as high as the task's own posture gives SAC an optimum outside the pose
    /// (<c>vlmrm evaluate near-misses</c>). Each fails its task's predicate (Envs.Tests).
    /// </summary>
    public static IReadOnlyList<NearMiss> NearMisses { get; } =
    [
        // One knee down, the other foot planted in front: the back knee stays off the floor.
        new("lunge, left foot forward", HumanoidPose.Kneeling, new(0, new Dictionary<string, double> { ["left_hip_y"] = -90, ["left_knee"] = -90, ["right_knee"] = -95 })),
        new("lunge, right foot forward", HumanoidPose.Kneeling, new(0, new Dictionary<string, double> { ["right_hip_y"] = -90, ["right_knee"] = -90, ["left_knee"] = -95 })),
        // Kneeling with the torso tipped forward to near horizontal.
        new("on hands and knees", HumanoidPose.Kneeling, new(75, new Dictionary<string, double> { ["left_knee"] = -95, ["right_knee"] = -95, ["left_hip_y"] = -75, ["right_hip_y"] = -75 })),
        // The knees fold but stay high.
        new("squatting on the feet", HumanoidPose.Kneeling, new(25, new Dictionary<string, double> { ["left_hip_y"] = -100, ["right_hip_y"] = -100, ["left_knee"] = -140, ["right_knee"] = -140 })),
        new("seated, legs out in front", HumanoidPose.LotusPosition, new(-5, new Dictionary<string, double> { ["left_hip_y"] = -90, ["right_hip_y"] = -90, ["left_knee"] = -5, ["right_knee"] = -5 })),
        new("bent over from the hips", HumanoidPose.Standing, new(70, new Dictionary<string, double> { ["left_hip_y"] = -70, ["right_hip_y"] = -70 })),
    ];


    /// <summary>Both arms mirrored: the left arm's joints turn the other way about mirrored axes, so the same angles mirror the pose.</summary>
    private static Dictionary<string, double> Arms(double shoulder1, double shoulder2, double elbow) => new()
    {
        ["right_shoulder1"] = shoulder1, ["right_shoulder2"] = shoulder2, ["right_elbow"] = elbow,
        ["left_shoulder1"] = -shoulder1, ["left_shoulder2"] = -shoulder2, ["left_elbow"] = elbow,
    };

    private const int PlaneGeom = 0;
    private const int SphereGeom = 2;
    private const int CapsuleGeom = 3;

    private readonly HumanoidEnv _env;
    private readonly MujocoSimulation _sim;
    private readonly HumanoidSkeleton _skeleton;
    private readonly MujocoJoint _root;
    private readonly MujocoJoint[] _hinges;

    public HumanoidPoseGenerator(HumanoidEnv env)
    {
        _env = env;
        _sim = env.Simulation;
        _skeleton = env.Skeleton;
        _root = _sim.Joint("root") is { Type: MujocoJointType.Free } root
            ? root
            : throw new InvalidDataException($"{env.ModelPath} has no free joint named 'root': the pose generator places the body by it.");
        _hinges = [.. JointNames(env.ModelPath).Select(_sim.Joint).OfType<MujocoJoint>().Where(j => j.Type == MujocoJointType.Hinge)];
        foreach (var template in Templates.Values)
        {
            foreach (var name in template.JointDegrees.Keys)
            {
                if (_hinges.All(h => h.Name != name)) throw new InvalidDataException($"{env.ModelPath} has no hinge joint named '{name}', which the pose templates set; use a Humanoid-v4 model.");
            }
        }
    }

    /// <summary>Every hinge the generator sets, with its range.</summary>
    public IReadOnlyList<MujocoJoint> Hinges => _hinges;

    /// <summary>
    /// Sets the body in a new posture and returns it: <paramref name="target"/>'s template with each joint moved by up
    /// to ±<paramref name="noiseDegrees"/>, or without a target every joint uniform in its range, half the draws upright
    /// and half tilted anywhere from bent over to lying on the back or front. Yaw is random within
    /// ±<paramref name="yawDegrees"/>; then the body is lowered onto the floor and settled for
    /// <paramref name="settleSteps"/> physics steps without control.
    /// </summary>
    public HumanoidBodyState Pose(Random random, HumanoidPose? target, double noiseDegrees = 8, double yawDegrees = 30, int settleSteps = 0)
    {
        if (target is { } pose) return Pose(random, Templates[pose], noiseDegrees, yawDegrees, settleSteps);
        _sim.ResetData();
        var qpos = _sim.Qpos;
        foreach (var hinge in _hinges)
        {
            var (low, high) = hinge.Range ?? (-Math.PI, Math.PI);
            qpos[hinge.QposAddress] = random.Uniform(low, high);
        }
        var pitch = random.NextDouble() < 0.5 ? random.Uniform(-15, 15) : random.Uniform(-100, 100);
        return Place(random, pitch, yawDegrees, settleSteps);
    }

    /// <summary>The draws of <see cref="PoseAnyTask"/>: a random posture (null) or one of the eight tasks.</summary>
    private static readonly HumanoidPose?[] TaskDraws = [null, .. Enum.GetValues<HumanoidPose>().Cast<HumanoidPose?>()];

    /// <summary>A posture of one of the eight tasks or a random one, each at even odds; returns it and which it was (null: random).</summary>
    public (HumanoidBodyState Body, HumanoidPose? Target) PoseAnyTask(Random random)
    {
        var target = TaskDraws[random.Next(TaskDraws.Length)];
        return (Pose(random, target), target);
    }

    /// <summary>A posture from <paramref name="template"/>, each joint and the root's pitch moved by up to ±<paramref name="noiseDegrees"/>.</summary>
    public HumanoidBodyState Pose(Random random, PoseTemplate template, double noiseDegrees = 8, double yawDegrees = 30, int settleSteps = 0)
    {
        _sim.ResetData();
        var qpos = _sim.Qpos;
        foreach (var hinge in _hinges)
        {
            var degrees = template.JointDegrees.GetValueOrDefault(hinge.Name) + random.Uniform(-noiseDegrees, noiseDegrees);
            qpos[hinge.QposAddress] = Clamp(hinge, degrees * Math.PI / 180);
        }
        return Place(random, template.RootPitchDegrees + random.Uniform(-noiseDegrees, noiseDegrees), yawDegrees, settleSteps);
    }

    /// <summary>Turns the root (pitch, then a random yaw), lowers the body onto the floor and settles it.</summary>
    private HumanoidBodyState Place(Random random, double pitchDegrees, double yawDegrees, int settleSteps)
    {
        var yaw = random.Uniform(-yawDegrees, yawDegrees);
        var orientation = Quaternion.Concatenate(
            Quaternion.CreateFromAxisAngle(Vector3.UnitY, (float)(pitchDegrees * Math.PI / 180)),
            Quaternion.CreateFromAxisAngle(Vector3.UnitZ, (float)(yaw * Math.PI / 180)));
        var qpos = _sim.Qpos;
        var r = _root.QposAddress;
        (qpos[r], qpos[r + 1], qpos[r + 2]) = (0, 0, 2);
        (qpos[r + 3], qpos[r + 4], qpos[r + 5], qpos[r + 6]) = (orientation.W, orientation.X, orientation.Y, orientation.Z);
        _sim.Forward();
        qpos[r + 2] -= LowestPoint() - 0.001;
        _sim.Forward();
        if (settleSteps > 0)
        {
            _sim.Ctrl.Clear();
            _sim.StepPhysicsOnly(settleSteps);
            _sim.Forward();
        }
        return _skeleton.Read();
    }

    /// <summary>
    /// A state a random policy reaches: reset, then 5–80 steps of uniform random actions scaled by a random strength
    /// (what an untrained SAC agent shows the reward model in its first episodes).
    /// </summary>
    public HumanoidBodyState RandomPolicyState(Random random)
    {
        var spec = _env.Spec;
        var (low, high) = spec.ActionSpace is BoxSpace box ? (box.Low, box.High) : throw new InvalidOperationException("Humanoid actions must be a box.");
        var observation = new float[spec.ObservationSize];
        var action = new float[spec.ActionSize];
        _env.Reset(random.Next(), observation);
        var strength = random.Uniform(0.1, 1.0);
        var steps = random.Next(5, 80);
        for (var t = 0; t < steps; t++)
        {
            for (var i = 0; i < action.Length; i++) action[i] = (float)(strength * random.Uniform(low[i], high[i]));
            _env.Step(action, observation);
        }
        return _skeleton.Read();
    }

    /// <summary>Whether every hinge is within its range (to rounding).</summary>
    public bool WithinLimits()
    {
        var qpos = _sim.Qpos;
        foreach (var hinge in _hinges)
        {
            if (hinge.Range is { } range && (qpos[hinge.QposAddress] < range.Low - 1e-9 || qpos[hinge.QposAddress] > range.High + 1e-9)) return false;
        }
        return true;
    }

    /// <summary>Height of the body's lowest surface point: spheres and capsules exactly, other shapes by their largest size.</summary>
    public double LowestPoint()
    {
        var types = _sim.GeomType;
        var sizes = _sim.GeomSize;
        var positions = _sim.GeomXpos;
        var frames = _sim.GeomXmat;
        var lowest = double.PositiveInfinity;
        for (var g = 0; g < _sim.Ngeom; g++)
        {
            if (types[g] == PlaneGeom) continue;
            var z = positions[g * 3 + 2];
            var bottom = types[g] switch
            {
                SphereGeom => z - sizes[g * 3],
                // A capsule's axis is its frame's z axis (xmat's third column); its ends lie ± half-length along it.
                CapsuleGeom => z - Math.Abs(frames[g * 9 + 8]) * sizes[g * 3 + 1] - sizes[g * 3],
                _ => z - Math.Max(sizes[g * 3], Math.Max(sizes[g * 3 + 1], sizes[g * 3 + 2])),
            };
            lowest = Math.Min(lowest, bottom);
        }
        return lowest;
    }

    private static double Clamp(MujocoJoint joint, double radians) =>
        joint.Range is { } range ? Math.Clamp(radians, range.Low, range.High) : radians;

    /// <summary>The joint names an MJCF file declares (MuJoCo looks joints up by name only).</summary>
    private static IEnumerable<string> JointNames(string modelPath) =>
        System.Xml.Linq.XDocument.Load(modelPath).Descendants("joint").Select(j => (string?)j.Attribute("name")).OfType<string>().Distinct();
}

/// <summary>A posture close to <paramref name="NearTask"/> but outside its predicate.</summary>
public sealed record NearMiss(string Name, HumanoidPose NearTask, PoseTemplate Template);

/// <summary>A task's posture: the root's pitch (degrees, positive leans back) and the joints it sets (degrees).</summary>
public sealed record PoseTemplate(double RootPitchDegrees, IReadOnlyDictionary<string, double> JointDegrees);
