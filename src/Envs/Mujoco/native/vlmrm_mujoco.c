// A flat C API over MuJoCo 2.2.2, OSMesa and EGL for VlmRm's P/Invoke layer. MuJoCo's structs are large and
// change between versions; here the C compiler lays them out from Debian's headers, and C# only sees
// ints, doubles and opaque pointers. Built at build time (see ../../Envs.csproj).
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GL/osmesa.h>
#include <dlfcn.h>
#include <mujoco/mujoco.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

EXPORT int vlmrm_mj_version(void) { return mj_version(); }

EXPORT mjModel* vlmrm_mj_load(const char* path, char* error, int error_size) {
  return mj_loadXML(path, NULL, error, error_size);
}

EXPORT void vlmrm_mj_free_model(mjModel* m) { mj_deleteModel(m); }
EXPORT mjData* vlmrm_mj_make_data(const mjModel* m) { return mj_makeData(m); }
EXPORT void vlmrm_mj_free_data(mjData* d) { mj_deleteData(d); }

// Sizes: 0 nq, 1 nv, 2 nu, 3 nbody, 4 ngeom.
EXPORT int vlmrm_mj_size(const mjModel* m, int which) {
  switch (which) {
    case 0: return m->nq;
    case 1: return m->nv;
    case 2: return m->nu;
    case 3: return m->nbody;
    case 4: return m->ngeom;
    default: return -1;
  }
}

EXPORT double vlmrm_mj_timestep(const mjModel* m) { return m->opt.timestep; }
EXPORT const mjtNum* vlmrm_mj_qpos0(const mjModel* m) { return m->qpos0; }
EXPORT const mjtNum* vlmrm_mj_ctrlrange(const mjModel* m) { return m->actuator_ctrlrange; }
EXPORT const mjtByte* vlmrm_mj_ctrllimited(const mjModel* m) { return m->actuator_ctrllimited; }
EXPORT const mjtNum* vlmrm_mj_body_mass(const mjModel* m) { return m->body_mass; }
EXPORT int vlmrm_mj_body_id(const mjModel* m, const char* name) { return mj_name2id(m, mjOBJ_BODY, name); }
EXPORT int vlmrm_mj_geom_id(const mjModel* m, const char* name) { return mj_name2id(m, mjOBJ_GEOM, name); }
EXPORT const int* vlmrm_mj_geom_type(const mjModel* m) { return m->geom_type; }
EXPORT const mjtNum* vlmrm_mj_geom_size(const mjModel* m) { return m->geom_size; }

// A joint by name: its id (-1 when the model has none), where its coordinates start in qpos, its type (mjtJoint)
// and its range, which holds only when limited is set.
EXPORT int vlmrm_mj_joint(const mjModel* m, const char* name, int* qposadr, int* type, int* limited, mjtNum* range) {
  int id = mj_name2id(m, mjOBJ_JOINT, name);
  if (id < 0) return -1;
  *qposadr = m->jnt_qposadr[id];
  *type = m->jnt_type[id];
  *limited = m->jnt_limited[id];
  range[0] = m->jnt_range[2 * id];
  range[1] = m->jnt_range[2 * id + 1];
  return id;
}

// Arrays of mjData: 0 qpos, 1 qvel, 2 ctrl, 3 cinert, 4 cvel, 5 qfrc_actuator, 6 cfrc_ext, 7 xipos, 8 xpos, 9 xmat,
// 10 geom_xpos, 11 geom_xmat.
EXPORT mjtNum* vlmrm_mj_data_array(mjData* d, int which) {
  switch (which) {
    case 0: return d->qpos;
    case 1: return d->qvel;
    case 2: return d->ctrl;
    case 3: return d->cinert;
    case 4: return d->cvel;
    case 5: return d->qfrc_actuator;
    case 6: return d->cfrc_ext;
    case 7: return d->xipos;
    case 8: return d->xpos;
    case 9: return d->xmat;
    case 10: return d->geom_xpos;
    case 11: return d->geom_xmat;
    default: return NULL;
  }
}

EXPORT double vlmrm_mj_time(const mjData* d) { return d->time; }
EXPORT void vlmrm_mj_set_time(mjData* d, double t) { d->time = t; }
EXPORT void vlmrm_mj_reset(const mjModel* m, mjData* d) { mj_resetData(m, d); }
EXPORT void vlmrm_mj_forward(const mjModel* m, mjData* d) { mj_forward(m, d); }

// Frame skip: n physics steps with the same control, in one call; then the constraint forces
// (cfrc_ext) that MuJoCo computes only on request, as Gymnasium's MujocoEnv does.
EXPORT void vlmrm_mj_step(const mjModel* m, mjData* d, int n) {
  for (int i = 0; i < n; i++) mj_step(m, d);
  mj_rnePostConstraint(m, d);
}

// Physics only, for the benchmark against mujoco-testspeed.
EXPORT void vlmrm_mj_step_only(const mjModel* m, mjData* d, int n) {
  for (int i = 0; i < n; i++) mj_step(m, d);
}

// EGL, loaded on first use (libEGL.so.1: glvnd's, dispatching to Mesa or to NVIDIA's driver), so that machines
// without it still load this library and render through OSMesa. One display per process, shared by every context.
static struct {
  pthread_once_t once;
  char problem[300];
  EGLDisplay display;
  int hardware;
  PFNEGLINITIALIZEPROC initialize;
  PFNEGLCHOOSECONFIGPROC choose_config;
  PFNEGLBINDAPIPROC bind_api;
  PFNEGLCREATECONTEXTPROC create_context;
  PFNEGLDESTROYCONTEXTPROC destroy_context;
  PFNEGLMAKECURRENTPROC make_current;
  PFNEGLGETERRORPROC get_error;
} egl = {PTHREAD_ONCE_INIT};

// The display: the device MUJOCO_EGL_DEVICE_ID names, else the first hardware device (a GPU), else Mesa's
// surfaceless platform, which renders with llvmpipe on the CPU.
static void egl_open(void) {
  void* lib = dlopen("libEGL.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    snprintf(egl.problem, sizeof egl.problem, "libEGL.so.1 is not installed (apt install libegl1 libegl-mesa0; GPU nodes: the NVIDIA driver's EGL)");
    return;
  }
  PFNEGLGETPROCADDRESSPROC get_proc = (PFNEGLGETPROCADDRESSPROC)dlsym(lib, "eglGetProcAddress");
  egl.initialize = (PFNEGLINITIALIZEPROC)dlsym(lib, "eglInitialize");
  egl.choose_config = (PFNEGLCHOOSECONFIGPROC)dlsym(lib, "eglChooseConfig");
  egl.bind_api = (PFNEGLBINDAPIPROC)dlsym(lib, "eglBindAPI");
  egl.create_context = (PFNEGLCREATECONTEXTPROC)dlsym(lib, "eglCreateContext");
  egl.destroy_context = (PFNEGLDESTROYCONTEXTPROC)dlsym(lib, "eglDestroyContext");
  egl.make_current = (PFNEGLMAKECURRENTPROC)dlsym(lib, "eglMakeCurrent");
  egl.get_error = (PFNEGLGETERRORPROC)dlsym(lib, "eglGetError");
  PFNEGLQUERYDEVICESEXTPROC query_devices = get_proc ? (PFNEGLQUERYDEVICESEXTPROC)get_proc("eglQueryDevicesEXT") : NULL;
  PFNEGLQUERYDEVICESTRINGEXTPROC device_string = get_proc ? (PFNEGLQUERYDEVICESTRINGEXTPROC)get_proc("eglQueryDeviceStringEXT") : NULL;
  PFNEGLGETPLATFORMDISPLAYEXTPROC platform_display = get_proc ? (PFNEGLGETPLATFORMDISPLAYEXTPROC)get_proc("eglGetPlatformDisplayEXT") : NULL;
  if (!egl.initialize || !egl.make_current || !platform_display) {
    snprintf(egl.problem, sizeof egl.problem, "libEGL.so.1 lacks eglGetPlatformDisplayEXT (EGL 1.4 with EGL_EXT_platform_base is needed)");
    return;
  }
  EGLDeviceEXT devices[16];
  EGLint count = 0;
  if (query_devices && device_string) query_devices(16, devices, &count);
  const char* wanted = getenv("MUJOCO_EGL_DEVICE_ID");
  int chosen = -1;
  if (wanted && *wanted) {
    chosen = atoi(wanted);
    if (chosen < 0 || chosen >= count) {
      snprintf(egl.problem, sizeof egl.problem, "MUJOCO_EGL_DEVICE_ID=%s, but EGL lists %d device(s)", wanted, count);
      return;
    }
  } else {
    for (int i = 0; i < count && chosen < 0; i++) {
      const char* extensions = device_string(devices[i], EGL_EXTENSIONS);
      if (!extensions || !strstr(extensions, "EGL_MESA_device_software")) chosen = i;
    }
  }
  egl.hardware = chosen >= 0;
  egl.display = chosen >= 0 ? platform_display(EGL_PLATFORM_DEVICE_EXT, devices[chosen], NULL)
                            : platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
  if (egl.display == EGL_NO_DISPLAY || !egl.initialize(egl.display, NULL, NULL)) {
    snprintf(egl.problem, sizeof egl.problem, "no EGL display: %s (EGL error 0x%x)",
             chosen >= 0 ? "the EGL device did not initialize" : "no EGL device, and Mesa's surfaceless platform is missing (apt install libegl-mesa0 libgl1-mesa-dri)",
             egl.get_error ? egl.get_error() : 0);
    egl.display = EGL_NO_DISPLAY;
  }
}

static const char* egl_ready(void) {
  pthread_once(&egl.once, egl_open);
  return egl.display == EGL_NO_DISPLAY ? egl.problem : NULL;
}

// 1 when EGL renders on a hardware device (a GPU: what the auto backend prefers), 0 when only through Mesa's software
// renderer, -1 when EGL cannot render here (the reason goes to problem).
EXPORT int vlmrm_egl_status(char* problem, int problem_size) {
  const char* missing = egl_ready();
  if (missing) snprintf(problem, problem_size, "%s", missing);
  return missing ? -1 : egl.hardware;
}

// Offscreen rendering: one OpenGL context (OSMesa with its own colour buffer, or EGL without a surface), MuJoCo's
// scene and GPU-side context; MuJoCo draws into its own offscreen framebuffer either way. A context may be used
// from one thread at a time; it is made current on every render.
typedef struct {
  int backend;  // 0 OSMesa, 1 EGL
  OSMesaContext gl;
  EGLContext egl_context;
  unsigned char* buffer;
  unsigned char* row;
  int width, height;
  mjvScene scene;
  mjvOption option;
  mjvCamera camera;
  mjrContext context;
} vlmrm_renderer;

static int make_current(vlmrm_renderer* r) {
  return r->backend == 1 ? egl.make_current(egl.display, EGL_NO_SURFACE, EGL_NO_SURFACE, r->egl_context) == EGL_TRUE
                         : OSMesaMakeCurrent(r->gl, r->buffer, GL_UNSIGNED_BYTE, r->width, r->height);
}

// No context stays current on a thread between calls. A context is freed by whichever thread disposes its
// simulation; had it stayed current on the render thread that drew with it, that thread's next make-current
// would flush a destroyed context (a crash, seen when a run's environments were disposed and new ones drawn).
static void release_current(vlmrm_renderer* r) {
  if (r->backend == 1) egl.make_current(egl.display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
  else OSMesaMakeCurrent(NULL, NULL, GL_UNSIGNED_BYTE, 0, 0);
}

static EGLContext egl_create_context(char* problem, int problem_size) {
  const char* missing = egl_ready();
  if (missing) {
    snprintf(problem, problem_size, "%s", missing);
    return EGL_NO_CONTEXT;
  }
  // MuJoCo 2.2 draws with OpenGL's compatibility profile; no surface: it renders into its own framebuffer.
  EGLint attributes[] = {EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 8, EGL_DEPTH_SIZE, 24,
                         EGL_STENCIL_SIZE, 8, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_NONE};
  EGLConfig config;
  EGLint configs = 0;
  if (!egl.choose_config(egl.display, attributes, &config, 1, &configs) || configs < 1 || !egl.bind_api(EGL_OPENGL_API)) {
    snprintf(problem, problem_size, "the EGL display has no desktop OpenGL configuration (EGL error 0x%x)", egl.get_error());
    return EGL_NO_CONTEXT;
  }
  EGLContext context = egl.create_context(egl.display, config, EGL_NO_CONTEXT, NULL);
  if (context == EGL_NO_CONTEXT) snprintf(problem, problem_size, "eglCreateContext failed (EGL error 0x%x)", egl.get_error());
  return context;
}

static void free_renderer(vlmrm_renderer* r) {
  if (r->gl) OSMesaDestroyContext(r->gl);
  if (r->egl_context != EGL_NO_CONTEXT) egl.destroy_context(egl.display, r->egl_context);
  free(r->buffer);
  free(r->row);
  free(r);
}

// backend: 0 OSMesa, 1 EGL. NULL on failure, with the reason in problem.
EXPORT vlmrm_renderer* vlmrm_render_create(mjModel* m, int width, int height, int shadows, int reflection, int skybox,
                                           int backend, char* problem, int problem_size) {
  vlmrm_renderer* r = calloc(1, sizeof(vlmrm_renderer));
  if (!r) return NULL;
  r->backend = backend;
  r->egl_context = EGL_NO_CONTEXT;
  r->width = width;
  r->height = height;
  r->row = malloc((size_t)width * 3);
  if (backend == 1) {
    r->egl_context = egl_create_context(problem, problem_size);
  } else {
    r->gl = OSMesaCreateContextExt(OSMESA_RGBA, 24, 8, 0, NULL);
    r->buffer = malloc((size_t)width * height * 4);
    if (!r->gl) snprintf(problem, problem_size, "OSMesaCreateContextExt failed (is libosmesa6 installed?)");
  }
  if (!r->row || (backend == 1 ? r->egl_context == EGL_NO_CONTEXT : !r->gl || !r->buffer) || !make_current(r)) {
    if (problem[0] == 0) snprintf(problem, problem_size, "the %s context could not be made current", backend == 1 ? "EGL" : "OSMesa");
    free_renderer(r);
    return NULL;
  }
  // The offscreen framebuffer must hold the requested size.
  if (m->vis.global.offwidth < width) m->vis.global.offwidth = width;
  if (m->vis.global.offheight < height) m->vis.global.offheight = height;
  mjv_defaultScene(&r->scene);
  mjv_defaultOption(&r->option);
  mjv_defaultCamera(&r->camera);
  mjr_defaultContext(&r->context);
  mjv_makeScene(m, &r->scene, 2000);
  mjr_makeContext(m, &r->context, mjFONTSCALE_150);
  mjr_setBuffer(mjFB_OFFSCREEN, &r->context);
  r->scene.flags[mjRND_SHADOW] = shadows ? 1 : 0;
  r->scene.flags[mjRND_REFLECTION] = reflection ? 1 : 0;
  r->scene.flags[mjRND_SKYBOX] = skybox ? 1 : 0;
  r->camera.type = mjCAMERA_FREE;
  release_current(r);
  return r;
}

// Renders d from a free camera (look-at point, distance, azimuth and elevation in degrees) into rgb,
// width*height*3 bytes, top row first.
EXPORT int vlmrm_render(vlmrm_renderer* r, const mjModel* m, mjData* d, const double* lookat,
                        double distance, double azimuth, double elevation, unsigned char* rgb) {
  if (!make_current(r)) return 0;
  r->camera.lookat[0] = lookat[0];
  r->camera.lookat[1] = lookat[1];
  r->camera.lookat[2] = lookat[2];
  r->camera.distance = distance;
  r->camera.azimuth = azimuth;
  r->camera.elevation = elevation;
  mjrRect viewport = {0, 0, r->width, r->height};
  mjv_updateScene(m, d, &r->option, NULL, &r->camera, mjCAT_ALL, &r->scene);
  mjr_render(viewport, &r->scene, &r->context);
  mjr_readPixels(rgb, NULL, viewport, &r->context);
  // OpenGL's rows start at the bottom.
  int stride = r->width * 3;
  for (int y = 0; y < r->height / 2; y++) {
    unsigned char* top = rgb + (size_t)y * stride;
    unsigned char* bottom = rgb + (size_t)(r->height - 1 - y) * stride;
    memcpy(r->row, top, stride);
    memcpy(top, bottom, stride);
    memcpy(bottom, r->row, stride);
  }
  release_current(r);
  return 1;
}

EXPORT void vlmrm_render_free(vlmrm_renderer* r) {
  if (!r) return;
  make_current(r);
  mjr_freeContext(&r->context);
  mjv_freeScene(&r->scene);
  release_current(r);
  free_renderer(r);
}
