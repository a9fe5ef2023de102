using VlmRm.ClipTraining.Captions;
using VlmRm.Evaluation.Language;
using static TorchSharp.torch;

namespace VlmRm.ClipTraining.Tests;

/// <summary>The off-scene term of the contrastive loss: texts about something else held flat over a scene's frames.</summary>
public class OffSceneTermTests
{
    [Fact]
    public void The_term_is_the_mean_over_scenes_of_each_off_scene_texts_variance_over_the_scenes_frames()
    {
        // Frames 0 and 1 show scene A, frames 2 and 3 scene B; text 0 is about A, text 1 about B, text 2 about neither.
        float[] cosines =
        [
            0.9f, 0.1f, 0.3f,
            0.5f, 0.3f, 0.1f,
            0.2f, 0.8f, 0.0f,
            0.2f, 0.4f, 0.4f,
        ];
        float[] offScene =
        [
            0, 1, 1,
            0, 1, 1,
            1, 0, 1,
            1, 0, 1,
        ];
        using var batch = new StepTensors(zeros(1), zeros(1), zeros(1), tensor(offScene, [4, 3]), [tensor(new long[] { 0, 1 }), tensor(new long[] { 2, 3 })]);
        using var values = tensor(cosines, [4, 3]);
        // Population variance of two values is (a − b)² / 4. Scene A: texts 1 and 2; scene B: texts 0 and 2.
        var sceneA = (Square(0.1 - 0.3) + Square(0.3 - 0.1)) / 2;
        var sceneB = (Square(0.2 - 0.2) + Square(0.0 - 0.4)) / 2;
        using var spread = ClipTrainer.OffSceneSpread(values, batch);
        Assert.Equal((sceneA + sceneB) / 2, spread.item<float>(), 1e-6);

        static double Square(double difference) => difference * difference / 4;
    }

    [Fact]
    public void A_step_with_the_term_adds_unrelated_sentences_and_marks_every_text_of_another_scene()
    {
        using var trainer = new ClipTrainer(ClipTrainerTests.Tiny(1) with { OffSceneWeight = 1 }, ClipTrainerTests.TempFolder(), ClipTrainerTests.Tokenizer);
        using var batch = trainer.BatchTensors(0);
        var frames = (int)batch.Targets.shape[0];
        var captions = (int)batch.Targets.shape[1];
        var texts = (int)batch.OffScene.shape[1];
        Assert.Equal(32, texts - captions);
        Assert.Equal(texts, (int)batch.Text.shape[0]);
        Assert.Equal(2, batch.SceneRows.Length); // CartPole and MountainCarTextured
        var targets = batch.Targets.data<float>().ToArray();
        var offScene = batch.OffScene.data<float>().ToArray();
        var sceneOf = new int[frames];
        for (var s = 0; s < batch.SceneRows.Length; s++)
        {
            foreach (var row in batch.SceneRows[s].data<long>().ToArray()) sceneOf[row] = s;
        }
        for (var i = 0; i < frames; i++)
        {
            for (var k = 0; k < texts; k++)
            {
                var off = offScene[i * texts + k];
                if (k >= captions) Assert.Equal(1, off); // an unrelated sentence is about no scene
                else if (targets[i * captions + k] == 1) Assert.Equal(0, off); // a caption true of a frame is about its scene
                // Frames of one scene agree on which texts are about another.
                var first = batch.SceneRows[sceneOf[i]].data<long>()[0];
                Assert.Equal(offScene[first * texts + k], off);
            }
        }
        // Each caption is about exactly one of the two scenes.
        for (var k = 0; k < captions; k++)
        {
            var marks = batch.SceneRows.Select(rows => offScene[rows.data<long>()[0] * texts + k]).ToArray();
            Assert.Equal(1, marks.Count(m => m == 0));
        }
    }

    [Fact]
    public void Training_with_the_term_flattens_other_scenes_texts_over_a_scenes_frames()
    {
        double Spread(double weight)
        {
            using var trainer = new ClipTrainer(ClipTrainerTests.Tiny(40) with { OffSceneWeight = weight }, ClipTrainerTests.TempFolder(), ClipTrainerTests.Tokenizer);
            trainer.Train(cancellationToken: TestContext.Current.CancellationToken);
            trainer.Model.eval();
            using var _ = no_grad();
            using var batch = trainer.BatchTensors(1_000); // a batch neither run trained on
            using var withTerm = ClipTrainer.ContrastiveLoss(trainer.Model, batch, 1);
            using var without = ClipTrainer.ContrastiveLoss(trainer.Model, batch, 0);
            using var scale = trainer.Model.LogitScale;
            return (withTerm.item<float>() - without.item<float>()) / Math.Pow(scale.item<float>(), 2);
        }

        var free = Spread(0);
        var held = Spread(5);
        Assert.True(held < free / 2, $"off-scene spread {held:E2} with the term, {free:E2} without");
    }

    [Fact]
    public void Unrelated_sentences_share_no_word_but_function_words_with_the_held_out_off_task_sentences_or_the_captions()
    {
        string[] functionWords = ["a", "an", "the", "on", "in", "of", "at", "with", "to", "beside", "under"];
        static IEnumerable<string> Words(string sentence) => sentence.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries).Select(w => w.ToLowerInvariant());
        var heldOut = HeldOutLanguage.ByTask.Values.SelectMany(lists => lists).Where(l => l.Name == "off-task").SelectMany(l => l.Sentences);
        var elsewhere = heldOut.Concat(CaptionGrammar.Default.AllCaptions().Select(c => c.Text)).SelectMany(Words).Except(functionWords).ToHashSet();
        var shared = UnrelatedScenes.Sentences.SelectMany(Words).Distinct().Where(elsewhere.Contains).ToList();
        Assert.Empty(shared);
        Assert.Equal(768, UnrelatedScenes.Sentences.Distinct().Count());
    }
}
