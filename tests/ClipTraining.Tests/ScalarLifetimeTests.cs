using VlmRm.TestSupport;

namespace VlmRm.ClipTraining.Tests;

/// <summary>
/// The trainer draws the next batch on another thread while TorchSharp computes: no collection may free a Scalar a
/// native call is reading (see <c>HeldScalars</c>; before it, "toFloat at Scalar.h" within seconds of this).
/// </summary>
[Collection(GarbageCollectionPressure.Collection)]
public class ScalarLifetimeTests
{
    [Fact]
    public void Training_survives_garbage_collections_beside_it()
    {
        using var trainer = new ClipTrainer(ClipTrainerTests.Tiny(20), ClipTrainerTests.TempFolder(), ClipTrainerTests.Tokenizer);
        using var pressure = new GarbageCollectionPressure();
        var last = trainer.Train(cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(last is { Step: 20 } && double.IsFinite(last.Loss));
        Assert.True(pressure.Collections > 10, $"only {pressure.Collections} collections ran beside training");
    }
}

[CollectionDefinition(GarbageCollectionPressure.Collection, DisableParallelization = true)]
public sealed class RunAloneUnderGarbageCollectionPressure;
