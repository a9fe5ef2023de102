namespace VlmRm.Abstractions;

/// <summary>
/// A learner's environment grain has lost its state: its activation ended (its silo stopping or dying) and the next
/// call reached a fresh one. The learner re-creates the environment and resumes from its latest checkpoint.
/// </summary>
[GenerateSerializer]
public sealed class EnvironmentLostException : Exception
{
    public EnvironmentLostException()
    {
    }

    public EnvironmentLostException(string message) : base(message)
    {
    }

    public EnvironmentLostException(string message, Exception inner) : base(message, inner)
    {
    }
}
