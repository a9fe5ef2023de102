using System.CommandLine;
using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.Evaluation;

namespace VlmRm.Client.Commands;

/// <summary>The CLIP model options every verb that loads a model shares.</summary>
internal sealed class ClipOptions
{
    private readonly Option<string> _model = new("--model") { Description = "CLIP model name (e.g. ViT-B-32/openai) in the models directory.", Required = true };
    private readonly Option<DirectoryInfo?> _models = new("--models") { Description = "CLIP models directory (default: VLMRM_MODELS or ./models)." };
    private readonly Option<DirectoryInfo?> _tokenizer = new("--tokenizer") { Description = "Folder with CLIP's bpe_simple_vocab_16e6.txt.gz for models that do not ship it (default: VLMRM_TOKENIZER, else the copy VlmRm ships)." };

    public void AddTo(Command command, bool withModel = true)
    {
        if (withModel) command.Options.Add(_model);
        command.Options.Add(_models);
        command.Options.Add(_tokenizer);
    }

    public ClipRuntimeOptions Options(ParseResult parse)
    {
        var defaults = new ClipRuntimeOptions();
        return defaults with
        {
            ModelsDirectory = parse.GetValue(_models)?.FullName ?? defaults.ModelsDirectory,
            TokenizerDirectory = parse.GetValue(_tokenizer)?.FullName ?? defaults.TokenizerDirectory,
        };
    }

    public OnnxClipModel Load(ParseResult parse) => OnnxClipModel.Load(parse.GetValue(_model)!, Options(parse));
}

/// <summary>Goal and baseline prompts; each task has the paper's prompts as defaults.</summary>
internal sealed class PromptOptions
{
    private readonly Option<string[]> _goal = new("--goal") { Description = "Goal prompt(s) (default: the task's prompt from the presets).", AllowMultipleArgumentsPerToken = false };
    private readonly Option<string[]> _baseline = new("--baseline") { Description = "Baseline prompt(s) (default: the task's)." };

    public void AddTo(Command command)
    {
        command.Options.Add(_goal);
        command.Options.Add(_baseline);
    }

    /// <param name="task">A labelled set's task: a Humanoid set's names which of the eight tasks' prompts are the defaults.</param>
    public RewardPrompts Get(ParseResult parse, string envId, string? task = null)
    {
        var defaults = TaskPrompts.For(envId, task);
        var goal = parse.GetValue(_goal) is { Length: > 0 } g ? g : defaults?.Goal.ToArray();
        var baseline = parse.GetValue(_baseline) is { Length: > 0 } b ? b : defaults?.Baseline.ToArray();
        if (goal is null || baseline is null) throw new ArgumentException($"No default prompts for '{envId}': give --goal and --baseline.");
        return new RewardPrompts(goal, baseline);
    }
}

/// <summary>Where a run's checkpoints are when the user does not say.</summary>
internal static class RunFolders
{
    /// <summary>vlmrm train's checkpoint folder, then the embedded cluster's.</summary>
    private static readonly string[] CheckpointFolders = [Path.Combine("runs", "checkpoints"), Path.Combine("runs", "cluster", "checkpoints")];

    /// <summary>The first default checkpoint folder with a folder for <paramref name="run"/>, as a full path.</summary>
    public static string CheckpointsHolding(string run)
    {
        var found = CheckpointFolders.FirstOrDefault(folder => Directory.Exists(Path.Combine(folder, run)));
        return Path.GetFullPath(found ?? throw new FileNotFoundException(
            $"Run '{run}' has no checkpoint folder under {string.Join(" or ", CheckpointFolders)}; give the folder with --checkpoints."));
    }
}
