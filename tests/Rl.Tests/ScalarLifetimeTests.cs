using VlmRm.Envs;
using VlmRm.Rl.Algorithms;
using VlmRm.Rl.Buffers;
using VlmRm.TestSupport;
using static TorchSharp.torch;

namespace VlmRm.Rl.Tests;

/// <summary>
/// TorchSharp 0.107 lets a garbage collection on another thread free a Scalar a native call is still reading
/// (<see cref="HeldScalars"/>): runs in a busy silo failed with "toFloat at Scalar.h". Here another thread collects
/// garbage without pause while SAC and DQN train (before the fix: "toFloat at Scalar.h" within seconds).
/// </summary>
[Collection(GarbageCollectionPressure.Collection)]
public class ScalarLifetimeTests
{
    private const int Observations = 3;

    [Fact]
    public void Sac_and_dqn_updates_survive_garbage_collections_on_another_thread()
    {
        var rng = new Rng(1);
        var buffer = new ReplayBuffer(512, Observations, 1);
        for (var i = 0; i < buffer.Capacity; i++)
        {
            float[] observation = [(float)rng.Uniform(-1, 1), (float)rng.Uniform(-1, 1), (float)rng.Uniform(-1, 1)];
            buffer.Add(observation, [rng.NextInt(2)], (float)rng.Uniform(-1, 1), observation, terminated: i % 50 == 0);
        }
        using var sac = new Sac(new SacOptions { BatchSize = 32, NetArch = [16, 16] }, Observations, new BoxSpace([-1f], [1f]), totalTimesteps: 1000, CPU, seed: 1);
        using var dqn = new Dqn(new DqnOptions { BatchSize = 32, NetArch = [16, 16], LearningRateSchedule = LearningRateSchedule.Linear }, Observations, new DiscreteSpace(2), 1000, CPU, seed: 1);

        using var pressure = new GarbageCollectionPressure();
        for (var round = 0; round < 40; round++)
        {
            sac.OnTimesteps(round * 25);
            dqn.OnTimesteps(round * 25);
            Assert.True(double.IsFinite(sac.Train(buffer, 25, rng).Values["train/critic_loss"]));
            Assert.True(double.IsFinite(dqn.Train(buffer, 25, rng).Values["train/loss"]));
        }
        Assert.True(pressure.Collections > 10, $"only {pressure.Collections} collections ran beside training");
    }
}

[CollectionDefinition(GarbageCollectionPressure.Collection, DisableParallelization = true)]
public sealed class RunAloneUnderGarbageCollectionPressure;
