namespace VlmRm.Rl.Labelling;

/// <summary>When Algorithm 1 labels a full unlabelled buffer, relative to collecting and learning (reward.labelling).</summary>
public enum LabellingScheduleKind
{
    /// <summary>The paper's order: the run waits for a batch's rewards before it steps on (<see cref="SynchronousLabelling"/>).</summary>
    Synchronous,

    /// <summary>Collection and learning go on while a batch is labelled (<see cref="OverlappedLabelling"/>).</summary>
    Overlapped,
}
