using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using VlmRm.Abstractions;

namespace VlmRm.Client.Commands;

/// <summary><c>vlmrm evaluate epic-job NAME --set DIR --model M …</c>: EPIC of several models × α, scheduled on the cluster's evaluator grain.</summary>
internal static class EpicJobCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "Job name: submitting the same name again shows that job instead of starting another." };
        var set = new Option<DirectoryInfo>("--set") { Description = "Labelled set folder, as the silos see it.", Required = true };
        var models = new Option<string[]>("--model") { Description = "CLIP model (repeat for several), from the silos' models folder.", Required = true, AllowMultipleArgumentsPerToken = true };
        var alphas = new Option<string>("--alphas") { Description = "Comma-separated α values.", DefaultValueFactory = _ => "0,0.25,0.5,0.75,1" };
        var goal = new Option<string?>("--goal") { Description = "Goal prompt (default: the task's)." };
        var baseline = new Option<string?>("--baseline") { Description = "Baseline prompt (default: the task's)." };
        var command = new Command("epic-job", "EPIC distance of CLIP models × α to a labelled set, run by the cluster's evaluator grain; waits and prints the results.")
            { name, set, models, alphas, goal, baseline, SweepCommands.Cluster, SweepCommands.Data };
        command.SetAction((parse, ct) => SweepCommands.OnCluster(parse, async client =>
        {
            if (parse.GetValue(goal) is null != parse.GetValue(baseline) is null) throw new ArgumentException("Give both --goal and --baseline, or neither.");
            var job = new EpicJob(parse.GetValue(set)!.FullName, parse.GetValue(models)!, EvaluateCommand.ParseAlphas(parse.GetValue(alphas)!),
                parse.GetValue(goal) is { } g ? [g] : [], parse.GetValue(baseline) is { } b ? [b] : []);
            var evaluator = client.GetGrain<IEvaluatorGrain>(parse.GetValue(name)!);
            var status = await evaluator.SubmitAsync(job);
            await Output.ForConsole().ProgressAsync($"EPIC job {status.Name}", Math.Max(1, status.Pairs), 0, async report =>
            {
                while (status.State == RunState.Running && !ct.IsCancellationRequested)
                {
                    report(status.Results.Count, "model × α pairs");
                    await Task.Delay(500, CancellationToken.None);
                    status = await evaluator.GetStatusAsync();
                }
                report(status.Results.Count, "model × α pairs");
            });
            var table = new Table().AddColumns("model", "α", "EPIC", "mean reward goal", "non-goal", "states (goal)");
            foreach (var r in status.Results.OrderBy(r => r.Epic))
            {
                table.AddRow(Markup.Escape(r.Model), r.Alpha.ToString(CultureInfo.InvariantCulture), r.Epic.ToString("F4", CultureInfo.InvariantCulture),
                    r.MeanGoalReward.ToString("F4", CultureInfo.InvariantCulture), r.MeanNonGoalReward.ToString("F4", CultureInfo.InvariantCulture), $"{r.States} ({r.GoalStates})");
            }
            AnsiConsole.Write(table);
            if (status.State == RunState.Failed) throw new InvalidOperationException($"EPIC job {status.Name} failed: {status.Error}");
            return 0;
        }, ct));
        return command;
    }
}
