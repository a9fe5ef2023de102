using System.Collections.Concurrent;

namespace VlmRm.Envs.Mujoco;

/// <summary>Offscreen rendering flags (MuJoCo's mjRND_*): the expensive ones on llvmpipe.</summary>
public sealed record RenderFlags(bool Shadows = true, bool Reflection = true, bool Skybox = true);

/// <summary>MuJoCo's joint types (mjtJoint).</summary>
public enum MujocoJointType
{
    Free = 0,
    Ball = 1,
    Slide = 2,
    Hinge = 3,
}

/// <summary>A joint: where its coordinates start in qpos, its type and, when limited, its range (radians for a hinge).</summary>
public sealed record MujocoJoint(string Name, int QposAddress, MujocoJointType Type, (double Low, double High)? Range);

/// <summary>A free camera fixed in the world: look-at point, distance, azimuth and elevation (degrees).</summary>
public sealed record CameraPose(double LookAtX, double LookAtY, double LookAtZ, double Distance, double Azimuth, double Elevation);

/// <summary>
/// One loaded MJCF model and one mjData, with spans over MuJoCo's arrays, and headless rendering:
/// an OpenGL context (EGL or OSMesa, <see cref="RenderBackend"/>) per rendering thread, created on first use on that thread.
/// </summary>
public sealed unsafe class MujocoSimulation : IDisposable
{
    private readonly ConcurrentDictionary<int, nint> _renderers = new();
    private readonly int _width;
    private readonly int _height;
    private readonly RenderFlags _flags;
    private nint _model;
    private nint _data;

    public MujocoSimulation(string modelPath, int width, int height, RenderFlags flags, RenderBackend backend = RenderBackend.Auto)
    {
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"MJCF model not found: {modelPath}", modelPath);
        var error = new byte[1000];
        try
        {
            // Before the model: a backend that cannot render here is an error, and no native model is left behind by it.
            Backend = RenderBackends.Resolve(backend);
            _model = MujocoNative.Load(modelPath, error, error.Length);
        }
        catch (DllNotFoundException e)
        {
            throw new InvalidOperationException("MuJoCo is not available: libvlmrm_mujoco.so (built from Debian's libmujoco-dev, libosmesa6-dev and libegl-dev) was not found or could not load. Run ./vlmrm setup, which installs them and rebuilds.", e);
        }
        if (_model == 0) throw new InvalidDataException($"MuJoCo cannot load {modelPath}: {MujocoNative.Text(error)}");
        _data = MujocoNative.MakeData(_model);
        Nq = MujocoNative.Size(_model, MujocoNative.ModelSize.Nq);
        Nv = MujocoNative.Size(_model, MujocoNative.ModelSize.Nv);
        Nu = MujocoNative.Size(_model, MujocoNative.ModelSize.Nu);
        Nbody = MujocoNative.Size(_model, MujocoNative.ModelSize.Nbody);
        Ngeom = MujocoNative.Size(_model, MujocoNative.ModelSize.Ngeom);
        Timestep = MujocoNative.Timestep(_model);
        _width = width;
        _height = height;
        _flags = flags;
    }

    public int Nq { get; }
    public int Nv { get; }
    public int Nu { get; }
    public int Nbody { get; }
    public int Ngeom { get; }
    public double Timestep { get; }

    /// <summary>What this simulation renders with (auto resolved).</summary>
    public RenderBackend Backend { get; }

    public Span<double> Qpos => Array(MujocoNative.DataArray.Qpos, Nq);
    public Span<double> Qvel => Array(MujocoNative.DataArray.Qvel, Nv);
    public Span<double> Ctrl => Array(MujocoNative.DataArray.Ctrl, Nu);
    public Span<double> Cinert => Array(MujocoNative.DataArray.Cinert, Nbody * 10);
    public Span<double> Cvel => Array(MujocoNative.DataArray.Cvel, Nbody * 6);
    public Span<double> QfrcActuator => Array(MujocoNative.DataArray.QfrcActuator, Nv);
    public Span<double> CfrcExt => Array(MujocoNative.DataArray.CfrcExt, Nbody * 6);
    public Span<double> Xipos => Array(MujocoNative.DataArray.Xipos, Nbody * 3);
    public Span<double> Xpos => Array(MujocoNative.DataArray.Xpos, Nbody * 3);
    public Span<double> Xmat => Array(MujocoNative.DataArray.Xmat, Nbody * 9);
    public Span<double> GeomXpos => Array(MujocoNative.DataArray.GeomXpos, Ngeom * 3);
    public Span<double> GeomXmat => Array(MujocoNative.DataArray.GeomXmat, Ngeom * 9);

    /// <summary>Each geom's mjtGeom type (2 sphere, 3 capsule, 0 plane …).</summary>
    public ReadOnlySpan<int> GeomType => new((void*)MujocoNative.GeomType(Live), Ngeom);

    /// <summary>Each geom's three size parameters (a capsule's radius and half-length first).</summary>
    public ReadOnlySpan<double> GeomSize => new((void*)MujocoNative.GeomSize(Live), Ngeom * 3);
    public ReadOnlySpan<double> Qpos0 => new((void*)MujocoNative.Qpos0(Live), Nq);
    public ReadOnlySpan<double> BodyMass => new((void*)MujocoNative.BodyMass(Live), Nbody);
    public ReadOnlySpan<double> CtrlRange => new((void*)MujocoNative.CtrlRange(Live), Nu * 2);
    public ReadOnlySpan<byte> CtrlLimited => new((void*)MujocoNative.CtrlLimited(Live), Nu);

    public double Time
    {
        get => MujocoNative.Time(_data);
        set => MujocoNative.SetTime(_data, value);
    }

    public int BodyId(string name) => MujocoNative.BodyId(Live, name);

    public int GeomId(string name) => MujocoNative.GeomId(Live, name);

    /// <summary>A joint by name, or null when the model has none.</summary>
    public MujocoJoint? Joint(string name)
    {
        var range = new double[2];
        var id = MujocoNative.Joint(Live, name, out var address, out var type, out var limited, range);
        return id < 0 ? null : new MujocoJoint(name, address, (MujocoJointType)type, limited != 0 ? (range[0], range[1]) : null);
    }

    public void ResetData() => MujocoNative.Reset(Live, _data);

    public void Forward() => MujocoNative.Forward(Live, _data);

    /// <summary><paramref name="steps"/> physics steps, then the constraint forces (Gymnasium's do_simulation).</summary>
    public void Step(int steps) => MujocoNative.Step(Live, _data, steps);

    public void StepPhysicsOnly(int steps) => MujocoNative.StepPhysicsOnly(Live, _data, steps);

    /// <summary>Renders the current state (Height × Width × 3 bytes) with this thread's OpenGL context.</summary>
    public void Render(CameraPose camera, Span<byte> rgb)
    {
        if (rgb.Length != _width * _height * 3) throw new ArgumentException($"Frame buffer must be {_width}×{_height}×3 bytes, got {rgb.Length}.", nameof(rgb));
        var fresh = !_renderers.TryGetValue(Environment.CurrentManagedThreadId, out var renderer);
        if (fresh)
        {
            var problem = new byte[300];
            renderer = MujocoNative.CreateRenderer(Live, _width, _height, _flags.Shadows ? 1 : 0, _flags.Reflection ? 1 : 0, _flags.Skybox ? 1 : 0, Backend == RenderBackend.Egl ? 1 : 0, problem, problem.Length);
            if (renderer == 0) throw new InvalidOperationException($"Could not create a MuJoCo rendering context ({Backend}): {MujocoNative.Text(problem)}.");
            _renderers[Environment.CurrentManagedThreadId] = renderer;
        }
        double* lookAt = stackalloc double[3] { camera.LookAtX, camera.LookAtY, camera.LookAtZ };
        fixed (byte* pixels = rgb)
        {
            // A new context's first frame differs by a few levels from every later one (measured on
            // llvmpipe); render it once more so frames never depend on which thread drew them.
            for (var pass = fresh ? 2 : 1; pass > 0; pass--)
            {
                if (MujocoNative.Render(renderer, Live, _data, lookAt, camera.Distance, camera.Azimuth, camera.Elevation, pixels) == 0)
                {
                    throw new InvalidOperationException($"{Backend} could not make the rendering context current.");
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (var renderer in _renderers.Values) MujocoNative.FreeRenderer(renderer);
        _renderers.Clear();
        if (_data != 0) MujocoNative.FreeData(_data);
        if (_model != 0) MujocoNative.FreeModel(_model);
        _data = 0;
        _model = 0;
    }

    private nint Live => _model != 0 ? _model : throw new ObjectDisposedException(nameof(MujocoSimulation));

    private Span<double> Array(MujocoNative.DataArray which, int length) => new((void*)MujocoNative.DataPointer(_data, which), length);
}
