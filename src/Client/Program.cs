using System.CommandLine;
using VlmRm.Client;
using VlmRm.Client.Commands;

// Tables written to a log keep their columns (Spectre assumes 80 columns when output is not a terminal).
if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 160;
var root = new RootCommand("VlmRm: reinforcement learning with vision-language-model rewards (Rocamonde et al., 2023).");
root.Subcommands.Add(TryCommand.Create());
root.Subcommands.Add(EnvsCommand.Create());
root.Subcommands.Add(ModelsCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(ClipCommand.Create());
root.Subcommands.Add(EvaluateCommand.Create());
root.Subcommands.Add(ReportCommand.Create());
root.Subcommands.Add(PlanCommand.Create());
root.Subcommands.Add(RelabelCommand.Create());
foreach (var command in SweepCommands.Create()) root.Subcommands.Add(command);
var parse = root.Parse(args);
if (parse.Errors.Count > 0 && parse.Action is not System.CommandLine.Help.HelpAction)
{
    foreach (var error in parse.Errors) Console.Error.WriteLine(UserErrors.Describe(error));
    Console.Error.WriteLine(UserErrors.HelpHint(parse.CommandResult));
    return 1;
}
// An interrupted command gets the time it needs to stop cleanly (a training run checkpoints first: a Humanoid run's
// replay buffer takes seconds to store), not System.CommandLine's 2 s, after which the command is abandoned mid-write.
using var termination = new GracefulTermination();
return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, termination.Token);
