namespace VlmRm.Envs.Mujoco;

/// <summary>How MuJoCo renders offscreen (env_options.render_backend).</summary>
public enum RenderBackend
{
    /// <summary>MUJOCO_GL when it is set (as in dm_control), else EGL when it offers a hardware device (a GPU), else OSMesa.</summary>
    Auto,

    /// <summary>EGL without a surface: the GPU's driver on GPU nodes (MUJOCO_EGL_DEVICE_ID picks one), Mesa's surfaceless llvmpipe elsewhere.</summary>
    Egl,

    /// <summary>Mesa's OSMesa: llvmpipe on the CPU, needs no EGL.</summary>
    Osmesa,
}

/// <summary>Which backend a request renders with on this machine, and why EGL cannot when it cannot.</summary>
public static class RenderBackends
{
    private static readonly Lazy<(int Status, string Problem)> Egl = new(() =>
    {
        var problem = new byte[300];
        var status = MujocoNative.EglStatus(problem, problem.Length);
        return (status, MujocoNative.Text(problem));
    });

    /// <summary>The backend <paramref name="requested"/> renders with here (auto resolved); an EGL request EGL cannot serve is an error naming what is missing.</summary>
    public static RenderBackend Resolve(RenderBackend requested) => Resolve(requested, Environment.GetEnvironmentVariable("MUJOCO_GL"), () => Egl.Value);

    /// <param name="mujocoGl">The MUJOCO_GL environment variable.</param>
    /// <param name="egl">EGL's status (1 hardware device, 0 software only, −1 none) and the reason when it has none.</param>
    public static RenderBackend Resolve(RenderBackend requested, string? mujocoGl, Func<(int Status, string Problem)> egl)
    {
        if (requested == RenderBackend.Auto && !string.IsNullOrEmpty(mujocoGl))
        {
            requested = mujocoGl.ToLowerInvariant() switch
            {
                "egl" => RenderBackend.Egl,
                "osmesa" => RenderBackend.Osmesa,
                _ => throw new InvalidOperationException($"MUJOCO_GL={mujocoGl}: VlmRm renders MuJoCo with egl or osmesa (unset MUJOCO_GL for auto)."),
            };
        }
        if (requested == RenderBackend.Osmesa) return requested;
        var (status, problem) = egl();
        if (requested == RenderBackend.Egl)
        {
            if (status < 0) throw new InvalidOperationException($"The egl render backend was asked for (env_options.render_backend or MUJOCO_GL), but EGL cannot render here: {problem}. The osmesa backend renders on the CPU without EGL.");
            return requested;
        }
        return status > 0 ? RenderBackend.Egl : RenderBackend.Osmesa;
    }
}
