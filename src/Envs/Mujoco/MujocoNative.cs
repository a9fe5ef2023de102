using System.Runtime.InteropServices;

namespace VlmRm.Envs.Mujoco;

/// <summary>P/Invoke declarations of the shim in native/vlmrm_mujoco.c (flat functions, opaque pointers).</summary>
internal static partial class MujocoNative
{
    private const string Library = "vlmrm_mujoco";

    public enum DataArray
    {
        Qpos = 0,
        Qvel = 1,
        Ctrl = 2,
        Cinert = 3,
        Cvel = 4,
        QfrcActuator = 5,
        CfrcExt = 6,
        Xipos = 7,
        Xpos = 8,
        Xmat = 9,
        GeomXpos = 10,
        GeomXmat = 11,
    }

    public enum ModelSize
    {
        Nq = 0,
        Nv = 1,
        Nu = 2,
        Nbody = 3,
        Ngeom = 4,
    }

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_load", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint Load(string path, byte[] error, int errorSize);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_free_model")]
    public static partial void FreeModel(nint model);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_make_data")]
    public static partial nint MakeData(nint model);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_free_data")]
    public static partial void FreeData(nint data);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_size")]
    public static partial int Size(nint model, ModelSize which);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_timestep")]
    public static partial double Timestep(nint model);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_qpos0")]
    public static partial nint Qpos0(nint model);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_ctrlrange")]
    public static partial nint CtrlRange(nint model);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_ctrllimited")]
    public static partial nint CtrlLimited(nint model);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_body_mass")]
    public static partial nint BodyMass(nint model);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_body_id", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int BodyId(nint model, string name);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_geom_id", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int GeomId(nint model, string name);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_geom_type")]
    public static partial nint GeomType(nint model);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_geom_size")]
    public static partial nint GeomSize(nint model);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_joint", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Joint(nint model, string name, out int qposAddress, out int type, out int limited, double[] range);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_data_array")]
    public static partial nint DataPointer(nint data, DataArray which);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_time")]
    public static partial double Time(nint data);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_set_time")]
    public static partial void SetTime(nint data, double time);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_reset")]
    public static partial void Reset(nint model, nint data);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_forward")]
    public static partial void Forward(nint model, nint data);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_step")]
    public static partial void Step(nint model, nint data, int steps);

    [LibraryImport(Library, EntryPoint = "vlmrm_mj_step_only")]
    public static partial void StepPhysicsOnly(nint model, nint data, int steps);

    /// <summary>The NUL-terminated UTF-8 text the shim wrote into <paramref name="buffer"/> (an error or a reason).</summary>
    public static string Text(byte[] buffer) => System.Text.Encoding.UTF8.GetString(buffer).TrimEnd('\0');

    /// <param name="backend">0 OSMesa, 1 EGL.</param>
    [LibraryImport(Library, EntryPoint = "vlmrm_render_create")]
    public static partial nint CreateRenderer(nint model, int width, int height, int shadows, int reflection, int skybox, int backend, byte[] problem, int problemSize);

    /// <returns>1: EGL renders on a hardware device; 0: only through Mesa's software renderer; −1: not at all (why: <paramref name="problem"/>).</returns>
    [LibraryImport(Library, EntryPoint = "vlmrm_egl_status")]
    public static partial int EglStatus(byte[] problem, int problemSize);

    [LibraryImport(Library, EntryPoint = "vlmrm_render")]
    public static unsafe partial int Render(nint renderer, nint model, nint data, double* lookAt, double distance, double azimuth, double elevation, byte* rgb);

    [LibraryImport(Library, EntryPoint = "vlmrm_render_free")]
    public static partial void FreeRenderer(nint renderer);
}
