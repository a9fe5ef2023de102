using System.CommandLine;
using VlmRm.Client.Commands;

var root = new RootCommand("VlmRm: reinforcement learning with vision-language-model rewards (Rocamonde et al., 2023).");
root.Subcommands.Add(TryCommand.Create());
root.Subcommands.Add(EnvsCommand.Create());
root.Subcommands.Add(ModelsCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(ClipCommand.Create());
root.Subcommands.Add(EvaluateCommand.Create());
foreach (var command in SweepCommands.Create()) root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();
