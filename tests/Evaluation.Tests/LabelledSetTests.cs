using VlmRm.Envs.ClassicControl;
using VlmRm.Evaluation.LabelledSets;

namespace VlmRm.Evaluation.Tests;

public sealed class LabelledSetTests
{
    private static string NewFolder() => Path.Combine(Directory.CreateTempSubdirectory("vlmrm-set-").FullName, "set");

    [Fact]
    public void Uniform_cartpole_set_is_labelled_by_the_upright_predicate_and_round_trips()
    {
        var set = SetGenerators.UniformStates("CartPole", 60, seed: 3, NewFolder(), frameSize: 64);
        Assert.Equal(60, set.Count);
        Assert.Equal("CartPole", set.Manifest.Env);
        Assert.InRange(set.GoalCount, 1, 59);
        foreach (var frame in set.Frames)
        {
            var s = frame.State!;
            Assert.Equal(Math.Abs(s[2]) <= CartPoleEnv.ThetaThresholdRadians && Math.Abs(s[0]) <= CartPoleEnv.XThreshold, frame.IsGoal);
            Assert.Equal("predicate:pole-upright", frame.Labeller);
        }
        var reloaded = LabelledSet.Load(set.Directory);
        Assert.Equal(set.Labels(), reloaded.Labels());
        Assert.Equal(64 * 64 * 3, reloaded.ReadFrame(0).Length);
    }

    [Fact]
    public void Mountaincar_set_labels_the_car_at_the_flag_whatever_its_velocity_which_no_frame_shows()
    {
        var set = SetGenerators.UniformStates("MountainCar", 200, seed: 1, NewFolder(), frameSize: 32);
        Assert.All(set.Frames, f => Assert.Equal(f.State![0] >= 0.45, f.IsGoal));
        Assert.All(set.Frames, f => Assert.Equal("predicate:car-at-flag", f.Labeller));
        Assert.InRange(set.GoalCount, 1, 199);
        // Frames at the flag with the car rolling back are goal frames: they look like the others.
        Assert.Contains(set.Frames, f => f.IsGoal && f.State![1] < 0);
    }

    [Fact]
    public void A_damaged_set_is_refused_with_the_line_and_the_problem()
    {
        var set = SetGenerators.UniformStates("CartPole", 5, seed: 0, NewFolder(), frameSize: 16);
        var labels = Path.Combine(set.Directory, LabelledSet.LabelsFile);
        var original = File.ReadAllLines(labels);

        File.WriteAllLines(labels, [.. original[..2], original[1], .. original[3..]]);
        Assert.Matches("labels.jsonl:3: frame 'frames/000001.png' is labelled twice \\(first on line 2\\)", Load(set));

        File.WriteAllLines(labels, [original[0].Replace("\"label\":0", "\"label\":7", StringComparison.Ordinal).Replace("\"label\":1", "\"label\":7", StringComparison.Ordinal), .. original[1..]]);
        Assert.Matches("labels.jsonl:1: 'label' must be 0, 1, true or false, got 7", Load(set));

        File.WriteAllLines(labels, original);
        File.Delete(Path.Combine(set.Directory, "frames", "000004.png"));
        Assert.Matches("labels.jsonl:5: frame 'frames/000004.png' is missing", Load(set));

        File.WriteAllLines(labels, original[..4]);
        Assert.Matches("4 labels, the manifest says 5", Load(set));

        File.WriteAllLines(labels, [original[0].Replace("frames/000000.png", "../../etc/passwd", StringComparison.Ordinal), .. original[1..]]);
        Assert.Matches("points outside the set", Load(set));

        File.WriteAllLines(labels, ["{not json", .. original[1..]]);
        Assert.Matches("labels.jsonl:1: not valid JSON", Load(set));

        File.Delete(Path.Combine(set.Directory, LabelledSet.ManifestFile));
        Assert.Matches("labelled-set.json is missing", Load(set));
    }

    [Fact]
    public void An_existing_set_is_not_overwritten()
    {
        var set = SetGenerators.UniformStates("CartPole", 3, seed: 0, NewFolder(), frameSize: 16);
        Assert.Throws<IOException>(() => SetGenerators.UniformStates("CartPole", 3, seed: 1, set.Directory, frameSize: 16));
        Assert.Equal(3, LabelledSet.Load(set.Directory).Count);
    }

    private static string Load(LabelledSet set) => Assert.Throws<InvalidDataException>(() => LabelledSet.Load(set.Directory)).Message;
}
