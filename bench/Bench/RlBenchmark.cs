using System.Diagnostics;
using TorchSharp;
using VlmRm.Envs;
using VlmRm.Rl;
using VlmRm.Rl.Algorithms;
using VlmRm.Rl.Buffers;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;
using static TorchSharp.torch;

namespace VlmRm.Bench;

/// <summary>
/// Gradient updates/s of the library's SAC and DQN (replay sampling included) against a raw TorchSharp
/// loop doing the same update on pre-made tensors, 1 and 2 threads; and Algorithm 1's environment
/// steps/s with the ground-truth labeller.
/// </summary>
internal static class RlBenchmark
{
    private const int Batch = 256;
    private const int Observations = 17;
    private const int Actions = 6;

    public static void Run()
    {
        Console.WriteLine("| update (2×256 MLP, batch 256) | threads | library updates/s | raw TorchSharp updates/s | library / raw |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var threads in new[] { 1, 2 })
        {
            set_num_threads(threads);
            var sacLibrary = SacLibrary();
            var sacRaw = SacRaw();
            Console.WriteLine($"| SAC | {threads} | {sacLibrary:F0} | {sacRaw:F0} | {sacLibrary / sacRaw:F2}× |");
            var dqnLibrary = DqnLibrary();
            var dqnRaw = DqnRaw();
            Console.WriteLine($"| DQN | {threads} | {dqnLibrary:F0} | {dqnRaw:F0} | {dqnLibrary / dqnRaw:F2}× |");
        }
        Console.WriteLine();
        foreach (var (env, algorithm) in new[] { ("CartPole", AlgorithmKind.Dqn), ("MountainCar", AlgorithmKind.Sac) })
        {
            var config = new RunConfig
            {
                Env = env, Algorithm = algorithm, TotalTimesteps = long.MaxValue,
                Dqn = algorithm == AlgorithmKind.Dqn ? new DqnOptions { LearningStarts = 1000, TrainFreq = 4, GradientSteps = 1, NetArch = [256, 256], BatchSize = 64 } : null,
                Sac = algorithm == AlgorithmKind.Sac ? new SacOptions { LearningStarts = 1000, NetArch = [256, 256] } : null,
            };
            using var trainer = new Algorithm1Trainer(config, new GroundTruthLabeller());
            while (trainer.Timesteps < 2000) trainer.StepAsync().GetAwaiter().GetResult();
            var clock = Stopwatch.StartNew();
            var start = trainer.Timesteps;
            while (clock.Elapsed.TotalSeconds < 3) trainer.StepAsync().GetAwaiter().GetResult();
            var rate = (trainer.Timesteps - start) / clock.Elapsed.TotalSeconds;
            var updatesPerStep = algorithm == AlgorithmKind.Dqn ? "1 update / 4 steps" : "1 update / step";
            Console.WriteLine($"Algorithm 1, {ConfigSpelling.Of(algorithm).ToUpperInvariant()} on {env}, ground-truth labeller, {updatesPerStep}, 1 thread: {rate:N0} env steps/s");
        }
    }

    private static double SacLibrary()
    {
        var space = new BoxSpace(Actions, -1, 1);
        using var sac = new Sac(new SacOptions { BatchSize = Batch, NetArch = [256, 256] }, Observations, space, totalTimesteps: 1_000_000, CPU, seed: 1);
        var buffer = FilledBuffer(Actions);
        var rng = new Rng(1);
        return Rate(() => sac.Train(buffer, 1, rng));
    }

    private static double DqnLibrary()
    {
        using var dqn = new Dqn(new DqnOptions { BatchSize = Batch, NetArch = [256, 256] }, Observations, new DiscreteSpace(Actions), 1_000_000, CPU, seed: 1);
        var buffer = FilledBuffer(1, discrete: Actions);
        var rng = new Rng(1);
        return Rate(() => dqn.Train(buffer, 1, rng));
    }

    /// <summary>The same SAC update written inline on fixed tensors: no buffer, no sampling.</summary>
    private static double SacRaw()
    {
        manual_seed(1);
        var actor = nn.Sequential(nn.Linear(Observations, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 2 * Actions));
        nn.Module<Tensor, Tensor> Critic() => nn.Sequential(nn.Linear(Observations + Actions, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 1));
        var (q1, q2, t1, t2) = (Critic(), Critic(), Critic(), Critic());
        var actorOptimizer = optim.Adam(actor.parameters(), 3e-4);
        var criticOptimizer = optim.Adam(q1.parameters().Concat(q2.parameters()), 3e-4);
        var logAlpha = nn.Parameter(zeros(1));
        var alphaOptimizer = optim.Adam([logAlpha], 3e-4);
        var obs = randn(Batch, Observations);
        var next = randn(Batch, Observations);
        var act = rand(Batch, Actions) * 2 - 1;
        var reward = randn(Batch, 1);
        (Tensor A, Tensor LogProb) Sample(Tensor o)
        {
            var output = actor.forward(o);
            var mean = output[.., ..Actions];
            var logStd = output[.., Actions..].clamp(-20, 2);
            var noise = randn_like(mean);
            var a = (mean + logStd.exp() * noise).tanh();
            var logProb = (-0.5 * noise.pow(2) - logStd - 0.919).sum(1, keepdim: true) - (1 - a.pow(2) + 1e-6).log().sum(1, keepdim: true);
            return (a, logProb);
        }
        return Rate(() =>
        {
            using var scope = NewDisposeScope();
            var (pi, logPi) = Sample(obs);
            var alphaLoss = -(logAlpha * (logPi - Actions).detach()).mean();
            alphaOptimizer.zero_grad();
            alphaLoss.backward();
            alphaOptimizer.step();
            var alpha = logAlpha.detach().exp();
            Tensor target;
            using (no_grad())
            {
                var (nextA, nextLog) = Sample(next);
                var input = cat([next, nextA], 1);
                target = reward + 0.99 * (minimum(t1.forward(input), t2.forward(input)) - alpha * nextLog);
            }
            var sa = cat([obs, act], 1);
            var criticLoss = 0.5 * (nn.functional.mse_loss(q1.forward(sa), target) + nn.functional.mse_loss(q2.forward(sa), target));
            criticOptimizer.zero_grad();
            criticLoss.backward();
            criticOptimizer.step();
            var spi = cat([obs, pi], 1);
            var actorLoss = (alpha * logPi - minimum(q1.forward(spi), q2.forward(spi))).mean();
            actorOptimizer.zero_grad();
            actorLoss.backward();
            actorOptimizer.step();
            using (no_grad())
            {
                foreach (var (s, t) in q1.parameters().Concat(q2.parameters()).Zip(t1.parameters().Concat(t2.parameters()))) t.mul_(0.995).add_(s, alpha: 0.005);
            }
        });
    }

    private static double DqnRaw()
    {
        manual_seed(1);
        nn.Module<Tensor, Tensor> Q() => nn.Sequential(nn.Linear(Observations, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, Actions));
        var (q, target) = (Q(), Q());
        var optimizer = optim.Adam(q.parameters(), 1e-4);
        var obs = randn(Batch, Observations);
        var next = randn(Batch, Observations);
        var act = randint(0, Actions, [Batch, 1], ScalarType.Int64);
        var reward = randn(Batch, 1);
        return Rate(() =>
        {
            using var scope = NewDisposeScope();
            Tensor y;
            using (no_grad()) y = reward + 0.99 * target.forward(next).max(1).values.reshape(-1, 1);
            var loss = nn.functional.smooth_l1_loss(q.forward(obs).gather(1, act), y);
            optimizer.zero_grad();
            loss.backward();
            nn.utils.clip_grad_norm_(q.parameters(), 10);
            optimizer.step();
        });
    }

    private static ReplayBuffer FilledBuffer(int actionSize, int discrete = 0)
    {
        var buffer = new ReplayBuffer(100_000, Observations, actionSize);
        var rng = new Rng(3);
        var o = new float[Observations];
        var n = new float[Observations];
        var a = new float[actionSize];
        for (var i = 0; i < 10_000; i++)
        {
            for (var k = 0; k < Observations; k++) (o[k], n[k]) = ((float)rng.NextGaussian(), (float)rng.NextGaussian());
            for (var k = 0; k < actionSize; k++) a[k] = discrete > 0 ? rng.NextInt(discrete) : (float)rng.Uniform(-1, 1);
            buffer.Add(o, a, (float)rng.NextGaussian(), n, false);
        }
        return buffer;
    }

    /// <summary>Calls per second after a warm-up; median of 3 runs of 1.5 s.</summary>
    private static double Rate(Action call)
    {
        for (var i = 0; i < 30; i++) call();
        var rates = new double[3];
        for (var r = 0; r < 3; r++)
        {
            var count = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < 1.5)
            {
                call();
                count++;
            }
            rates[r] = count / clock.Elapsed.TotalSeconds;
        }
        Array.Sort(rates);
        return rates[1];
    }
}
