using VlmRm.Envs.Mujoco;
using VlmRm.TestSupport;

namespace VlmRm.Envs.Tests;

/// <summary>The eight tasks' pose predicates and the pose generator, on the paper's Humanoid-v4 body in real MuJoCo.</summary>
public class HumanoidPoseTests
{
    private static HumanoidEnv PaperHumanoid(HumanoidPose successPose = HumanoidPose.Standing)
    {
        var assets = TestPaths.PaperAssetsDirectory;
        Assert.SkipWhen(assets is null, "the paper's reference assets (../shared/assets/vlmrm) are not on this machine");
        return new HumanoidEnv(new HumanoidOptions { AssetsDirectory = assets, RenderWidth = 32, RenderHeight = 32, SuccessPose = successPose });
    }

    /// <summary>Standing with the arms placed, or on one leg, is still standing; no other pose implies another.</summary>
    private static bool Implies(HumanoidPose posed, HumanoidPose judged) =>
        posed == judged || (judged == HumanoidPose.Standing && posed is HumanoidPose.ArmsRaised or HumanoidPose.HandsOnHips or HumanoidPose.ArmsCrossed or HumanoidPose.StandingOnOneLeg);

    [Fact]
    public void Each_tasks_posed_body_is_in_its_pose_and_in_no_other_it_does_not_imply()
    {
        using var env = PaperHumanoid();
        var generator = new HumanoidPoseGenerator(env);
        foreach (var posed in Enum.GetValues<HumanoidPose>())
        {
            var body = generator.Pose(new Random(1), posed, noiseDegrees: 0, yawDegrees: 0);
            foreach (var judged in Enum.GetValues<HumanoidPose>())
            {
                Assert.True(HumanoidPoses.Holds(judged, body) == Implies(posed, judged),
                    $"posed {posed}, judged {judged}: predicate says {HumanoidPoses.Holds(judged, body)}");
            }
        }
    }

    [Fact]
    public void Bodies_out_of_a_pose_by_one_feature_are_not_in_it()
    {
        using var env = PaperHumanoid();
        var generator = new HumanoidPoseGenerator(env);
        var random = new Random(2);
        // Kneeling, but tipped forward onto the hands: the torso is no longer upright.
        Assert.False(HumanoidPoses.Holds(HumanoidPose.Kneeling, Posed(HumanoidPose.Kneeling, ("root pitch", 60))));
        // Lotus legs without the seat: hips flexed but knees straight, the feet far out in front.
        Assert.False(HumanoidPoses.Holds(HumanoidPose.LotusPosition, Posed(HumanoidPose.LotusPosition, ("left_knee", -10), ("right_knee", -10))));
        // Splits with the back leg brought forward: the feet end up close together.
        Assert.False(HumanoidPoses.Holds(HumanoidPose.DoingSplits, Posed(HumanoidPose.DoingSplits, ("left_hip_y", -90))));
        // One arm raised, the other down.
        Assert.False(HumanoidPoses.Holds(HumanoidPose.ArmsRaised, Posed(HumanoidPose.ArmsRaised, ("left_shoulder1", 0), ("left_shoulder2", 0), ("left_elbow", 0))));
        // Both feet down.
        Assert.False(HumanoidPoses.Holds(HumanoidPose.StandingOnOneLeg, Posed(HumanoidPose.StandingOnOneLeg, ("left_hip_y", 0), ("left_knee", 0))));

        HumanoidBodyState Posed(HumanoidPose pose, params (string Joint, double Degrees)[] changes)
        {
            var template = HumanoidPoseGenerator.Templates[pose];
            var joints = new Dictionary<string, double>(template.JointDegrees);
            var pitch = template.RootPitchDegrees;
            foreach (var (joint, degrees) in changes)
            {
                if (joint == "root pitch") pitch = degrees;
                else joints[joint] = degrees;
            }
            return generator.Pose(random, template with { RootPitchDegrees = pitch, JointDegrees = joints }, noiseDegrees: 0, yawDegrees: 0);
        }
    }

    [Fact]
    public void Near_misses_are_out_of_the_task_they_nearly_are_with_and_without_noise()
    {
        using var env = PaperHumanoid();
        var generator = new HumanoidPoseGenerator(env);
        var random = new Random(3);
        foreach (var nearMiss in HumanoidPoseGenerator.NearMisses)
        {
            Assert.False(HumanoidPoses.Holds(nearMiss.NearTask, generator.Pose(random, nearMiss.Template, noiseDegrees: 0, yawDegrees: 0)), $"'{nearMiss.Name}' is {nearMiss.NearTask}");
            var inTheTask = Enumerable.Range(0, 40).Count(_ => HumanoidPoses.Holds(nearMiss.NearTask, generator.Pose(random, nearMiss.Template)));
            Assert.True(inTheTask <= 6, $"{inTheTask} of 40 noisy draws of '{nearMiss.Name}' are {nearMiss.NearTask}");
        }
    }

    [Fact]
    public void Sitting_on_the_floor_with_the_legs_out_is_not_kneeling()
    {
        using var env = PaperHumanoid();
        var generator = new HumanoidPoseGenerator(env);
        var seated = HumanoidPoseGenerator.NearMisses.Single(n => n.Name == "seated, legs out in front").Template;
        var body = generator.Pose(new Random(1), seated, noiseDegrees: 0, yawDegrees: 0);
        Assert.True(body[HumanoidPart.LeftKnee].Z < HumanoidPoses.KneeHeight && body.TorsoUpCosine > HumanoidPoses.UprightCosine, "the seated body should have its knees low and its torso upright");
        Assert.False(HumanoidPoses.Holds(HumanoidPose.Kneeling, body));
    }

    [Fact]
    public void Generated_poses_keep_every_joint_in_its_range_and_rest_on_the_floor()
    {
        using var env = PaperHumanoid();
        var generator = new HumanoidPoseGenerator(env);
        Assert.True(generator.Hinges.Count >= 17, $"{generator.Hinges.Count} hinges");
        var random = new Random(3);
        HumanoidPose?[] targets = [null, .. Enum.GetValues<HumanoidPose>().Cast<HumanoidPose?>()];
        for (var draw = 0; draw < 90; draw++)
        {
            var target = targets[draw % targets.Length];
            var body = generator.Pose(random, target, noiseDegrees: 15);
            Assert.True(generator.WithinLimits(), $"draw {draw} ({target}): a joint outside its range");
            Assert.InRange(generator.LowestPoint(), -1e-6, 0.002);
            if (target is not null)
            {
                // Something the body stands, kneels or sits on is on the floor.
                double[] supports = [body[HumanoidPart.LeftFoot].Z, body[HumanoidPart.RightFoot].Z, body[HumanoidPart.LeftKnee].Z, body[HumanoidPart.RightKnee].Z, body[HumanoidPart.Pelvis].Z];
                Assert.True(supports.Min() < 0.25, $"draw {draw} ({target}): nothing near the floor ({string.Join(", ", supports.Select(z => z.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)))})");
            }
        }
    }

    [Fact]
    public void Noisy_draws_of_a_task_mostly_stay_in_its_pose()
    {
        using var env = PaperHumanoid();
        var generator = new HumanoidPoseGenerator(env);
        var random = new Random(4);
        var held = Enum.GetValues<HumanoidPose>().ToDictionary(pose => pose, pose => Enumerable.Range(0, 40).Count(_ => HumanoidPoses.Holds(pose, generator.Pose(random, pose))));
        Assert.True(held.Values.All(count => count >= 24), $"noisy draws in the pose (of 40): {string.Join(", ", held)}");
    }

    [Fact]
    public void Settling_lets_the_posed_body_move_under_gravity()
    {
        using var env = PaperHumanoid();
        var generator = new HumanoidPoseGenerator(env);
        var still = generator.Pose(new Random(5), HumanoidPose.StandingOnOneLeg, noiseDegrees: 0, yawDegrees: 0);
        var settled = generator.Pose(new Random(5), HumanoidPose.StandingOnOneLeg, noiseDegrees: 0, yawDegrees: 0, settleSteps: 50);
        Assert.NotEqual(still[HumanoidPart.LeftFoot], settled[HumanoidPart.LeftFoot]);
        Assert.InRange(settled.TorsoHeight, 0.1, 1.6);
    }

    [Fact]
    public void A_task_whose_predicate_reads_a_body_part_the_model_lacks_names_it()
    {
        var assets = TestPaths.PaperAssetsDirectory;
        Assert.SkipWhen(assets is null, "the paper's reference assets (../shared/assets/vlmrm) are not on this machine");
        // The paper's model with its left hand renamed, written beside the original so its textures resolve.
        var original = Path.Combine(assets!, HumanoidModelSource.PaperModelFile);
        var copy = Path.Combine(Directory.CreateTempSubdirectory("vlmrm-no-hand-").FullName, "humanoid.xml");
        var xml = File.ReadAllText(original).Replace("name=\"left_hand\"", "name=\"left_paw\"", StringComparison.Ordinal);
        File.WriteAllText(copy, xml.Replace("file=\"", $"file=\"{assets}/", StringComparison.Ordinal));
        var error = Assert.Throws<InvalidDataException>(() => new HumanoidEnv(new HumanoidOptions { ModelPath = copy, SuccessPose = HumanoidPose.ArmsRaised }));
        Assert.Contains("no geom named 'left_hand'", error.Message);
        Assert.Contains("arms_raised", error.Message);
        using var kneeling = new HumanoidEnv(new HumanoidOptions { ModelPath = copy, SuccessPose = HumanoidPose.Kneeling, RenderWidth = 32, RenderHeight = 32 });
        Assert.False(kneeling.IsSuccess); // a task that needs no hand still runs on it
    }

    [Fact]
    public void The_tasks_are_spelled_in_snake_case_as_the_yaml_files_and_command_line_take_them()
    {
        Assert.Equal(
            ["kneeling", "lotus_position", "standing", "arms_raised", "doing_splits", "hands_on_hips", "arms_crossed", "standing_on_one_leg"],
            Enum.GetValues<HumanoidPose>().Select(HumanoidSkeleton.ConfigName));
    }
}
