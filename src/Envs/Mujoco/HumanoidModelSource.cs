using System.Xml.Linq;
using VlmRm.Envs.Imaging;
using VlmRm.Envs.Rendering;

namespace VlmRm.Envs.Mujoco;

/// <summary>
/// Which MJCF file the Humanoid loads: a file the user names; the paper's textured Gymnasium
/// Humanoid-v4 from an assets folder (humanoid_textured.xml, read where it lies so its textures resolve);
/// or, by default, Debian's sample humanoid rewritten to use the project's own procedural textures
/// (tiled floor, sky, robot skin) written beside it in a cache folder.
/// </summary>
public static class HumanoidModelSource
{
    public const string PaperModelFile = "humanoid_textured.xml";
    public const string DebianModelPath = "/usr/share/mujoco/model/humanoid/humanoid.xml";

    public static string Resolve(string? modelPath, string? assetsDirectory)
    {
        if (modelPath is not null) return File.Exists(modelPath) ? Path.GetFullPath(modelPath) : throw new FileNotFoundException($"MJCF model not found: {modelPath}", modelPath);
        if (assetsDirectory is not null)
        {
            var paper = Path.Combine(assetsDirectory, PaperModelFile);
            return File.Exists(paper) ? Path.GetFullPath(paper) : throw new FileNotFoundException($"The assets directory '{assetsDirectory}' has no {PaperModelFile}.", paper);
        }
        if (!File.Exists(DebianModelPath))
        {
            throw new FileNotFoundException($"Debian's humanoid model ({DebianModelPath}) is missing: run ./vlmrm setup (installs libmujoco-samples), or point the environment at an MJCF file or the paper's assets.", DebianModelPath);
        }
        return ProceduralVariant();
    }

    private static readonly Lock Gate = new();

    /// <summary>Writes (once per version of this code) the Debian model with procedural textures; returns its path.</summary>
    private static string ProceduralVariant()
    {
        var folder = Path.Combine(Path.GetTempPath(), "vlmrm-humanoid-v1");
        var xmlPath = Path.Combine(folder, "humanoid_procedural.xml");
        lock (Gate)
        {
            if (File.Exists(xmlPath)) return xmlPath;
            Directory.CreateDirectory(folder);
            WriteTiles(Path.Combine(folder, "vlmrm_tiles.png"));
            WriteSky(Path.Combine(folder, "vlmrm_sky.png"));
            WriteSkin(Path.Combine(folder, "vlmrm_robot.png"));
            var document = XDocument.Load(DebianModelPath);
            var asset = document.Root!.Element("asset") ?? throw new InvalidDataException($"{DebianModelPath} has no <asset> section.");
            foreach (var texture in asset.Elements("texture").ToList())
            {
                var type = (string?)texture.Attribute("type");
                var name = (string?)texture.Attribute("name");
                if (type == "skybox") texture.ReplaceWith(new XElement("texture", new XAttribute("type", "skybox"), new XAttribute("file", "vlmrm_sky.png")));
                else if (name == "grid") texture.ReplaceWith(new XElement("texture", new XAttribute("name", "grid"), new XAttribute("type", "2d"), new XAttribute("file", "vlmrm_tiles.png")));
                else if (name == "body") texture.ReplaceWith(new XElement("texture", new XAttribute("name", "body"), new XAttribute("type", "cube"), new XAttribute("file", "vlmrm_robot.png")));
            }
            foreach (var material in asset.Elements("material"))
            {
                if ((string?)material.Attribute("name") == "grid")
                {
                    material.SetAttributeValue("texrepeat", "8 8");
                    material.SetAttributeValue("texuniform", "true");
                    material.SetAttributeValue("reflectance", ".05");
                }
                if ((string?)material.Attribute("name") == "body") material.SetAttributeValue("rgba", null);
            }
            var temporary = xmlPath + $".{Environment.ProcessId}.tmp";
            document.Save(temporary);
            File.Move(temporary, xmlPath, overwrite: true);
        }
        return xmlPath;
    }

    /// <summary>Sandstone floor tiles with grout lines and per-tile variation.</summary>
    private static void WriteTiles(string path)
    {
        const int size = 256, tile = 64;
        var noise = new ValueNoise(5);
        var rgb = new byte[size * size * 3];
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                var (tx, ty) = (x / tile, y / tile);
                var grout = x % tile < 3 || y % tile < 3;
                var shade = 0.82 + 0.12 * noise.Sample(tx * 3.1 + 0.5, ty * 2.7 + 0.5) + 0.1 * noise.Fractal(x / 9.0, y / 9.0, 3);
                var color = grout ? new Rgb(92, 86, 78) : new Rgb(196, 178, 150).Scale(shade);
                (rgb[(y * size + x) * 3], rgb[(y * size + x) * 3 + 1], rgb[(y * size + x) * 3 + 2]) = (color.R, color.G, color.B);
            }
        }
        Png.WriteRgb(path, rgb, size, size);
    }

    /// <summary>Blue sky with soft clouds.</summary>
    private static void WriteSky(string path)
    {
        const int size = 512;
        var noise = new ValueNoise(9);
        var rgb = new byte[size * size * 3];
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                var color = Rgb.Lerp(new Rgb(60, 120, 200), new Rgb(175, 210, 240), y / (double)size);
                var cloud = noise.Fractal(x / 70.0, y / 35.0, 5);
                if (cloud > 0.6) color = Rgb.Lerp(color, Rgb.White, Math.Min(1, (cloud - 0.6) * 3));
                (rgb[(y * size + x) * 3], rgb[(y * size + x) * 3 + 1], rgb[(y * size + x) * 3 + 2]) = (color.R, color.G, color.B);
            }
        }
        Png.WriteRgb(path, rgb, size, size);
    }

    /// <summary>Brushed light-grey metal with darker panel seams: a robot's skin.</summary>
    private static void WriteSkin(string path)
    {
        const int size = 128;
        var noise = new ValueNoise(13);
        var rgb = new byte[size * size * 3];
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                var brushed = 0.9 + 0.1 * noise.Fractal(x / 40.0, y / 1.5, 3);
                var seam = x % 32 < 2 || y % 48 < 2;
                var color = seam ? new Rgb(70, 74, 80) : new Rgb(200, 204, 210).Scale(brushed);
                (rgb[(y * size + x) * 3], rgb[(y * size + x) * 3 + 1], rgb[(y * size + x) * 3 + 2]) = (color.R, color.G, color.B);
            }
        }
        Png.WriteRgb(path, rgb, size, size);
    }
}
