namespace VlmRm.Rl.Algorithms;

/// <summary>The off-policy learner of a run: DQN for discrete actions (CartPole), SAC for continuous ones.</summary>
public enum AlgorithmKind
{
    Dqn,
    Sac,
}
