using System.CommandLine;
using Spectre.Console;
using VlmRm.Envs;

namespace VlmRm.Client.Commands;

/// <summary><c>vlmrm envs</c>: lists the environment ids.</summary>
internal static class EnvsCommand
{
    public static Command Create()
    {
        var command = new Command("envs", "List the environments that can be created by id.");
        command.SetAction(_ =>
        {
            var table = new Table().AddColumns("id", "description");
            foreach (var id in EnvRegistry.Ids.Order()) table.AddRow(Markup.Escape(id), Markup.Escape(EnvRegistry.Describe(id)));
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
