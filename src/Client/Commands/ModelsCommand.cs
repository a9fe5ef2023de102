using System.CommandLine;
using Spectre.Console;
using VlmRm.Clip.Models;

namespace VlmRm.Client.Commands;

/// <summary><c>vlmrm models</c>: the CLIP registry, which models are present in the models directory, and whether they load.</summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var clip = new ClipOptions();
        var verify = new Option<bool>("--verify") { Description = "Load every present model with ONNX Runtime and check its reference embeddings." };
        var command = new Command("models", "List the CLIP models the registry knows and the ones present in the models directory.") { verify };
        clip.AddTo(command, withModel: false);
        command.SetAction(parse =>
        {
            var options = clip.Options(parse);
            var registry = new ClipModelRegistry(options);
            var present = registry.Available();
            AnsiConsole.MarkupLine($"Models directory: [blue]{Markup.Escape(registry.ModelsDirectory)}[/] ({present.Count} present)");
            var table = new Table().AddColumns("model", "image", "embedding", "parameters", "status");
            foreach (var name in KnownClipModels.All.Select(m => m.Name).Union(present, StringComparer.OrdinalIgnoreCase))
            {
                var info = KnownClipModels.Find(name);
                var status = present.Contains(name, StringComparer.OrdinalIgnoreCase) ? Check(name, options, parse.GetValue(verify)) : "[grey]not present[/]";
                table.AddRow(Markup.Escape(name), info is null ? "?" : $"{info.ImageSize}px", info is null ? "?" : $"{info.EmbedDim}", info is null ? "?" : $"{info.Parameters / 1e6:F0} M", status);
            }
            AnsiConsole.Write(table);
            if (present.Count == 0) AnsiConsole.MarkupLine("No model present: export one with [blue]python tools/export_openclip.py ViT-B-32/openai --out models[/] (see docs/CLIP.md).");
            return 0;
        });
        return command;
    }

    private static string Check(string name, ClipRuntimeOptions options, bool load)
    {
        try
        {
            var folder = new ClipModelRegistry(options).Resolve(name);
            if (!load) return "[green]files ok[/]";
            using var model = OnnxClipModel.Load(folder, options);
            return $"[green]loads on {model.ExecutionProvider}{(folder.ReferencePath is null ? "" : ", reference embeddings match")}[/]";
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            return $"[red]{Markup.Escape(e.Message)}[/]";
        }
    }
}
