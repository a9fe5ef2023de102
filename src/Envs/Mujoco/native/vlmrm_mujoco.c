// A flat C API over MuJoCo 2.2.2 and OSMesa for VlmRm's P/Invoke layer. MuJoCo's structs are large and
// change between versions; here the C compiler lays them out from Debian's headers, and C# only sees
// ints, doubles and opaque pointers. Built at build time (see ../../Envs.csproj).
#include <GL/osmesa.h>
#include <mujoco/mujoco.h>
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

// Arrays of mjData: 0 qpos, 1 qvel, 2 ctrl, 3 cinert, 4 cvel, 5 qfrc_actuator, 6 cfrc_ext, 7 xipos, 8 xpos, 9 xmat.
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

// Offscreen rendering: one OSMesa context with its own colour buffer, MuJoCo's scene and GPU-side
// context. A context may be used from one thread at a time; it is made current on every render.
typedef struct {
  OSMesaContext gl;
  unsigned char* buffer;
  unsigned char* row;
  int width, height;
  mjvScene scene;
  mjvOption option;
  mjvCamera camera;
  mjrContext context;
} vlmrm_renderer;

// No context stays current on a thread between calls. A context is freed by whichever thread disposes its
// simulation; had it stayed current on the render thread that drew with it, that thread's next make-current
// would flush a destroyed context (a crash, seen when a run's environments were disposed and new ones drawn).
static void release_current(void) { OSMesaMakeCurrent(NULL, NULL, GL_UNSIGNED_BYTE, 0, 0); }

EXPORT vlmrm_renderer* vlmrm_render_create(mjModel* m, int width, int height, int shadows, int reflection, int skybox) {
  vlmrm_renderer* r = calloc(1, sizeof(vlmrm_renderer));
  if (!r) return NULL;
  r->gl = OSMesaCreateContextExt(OSMESA_RGBA, 24, 8, 0, NULL);
  r->buffer = malloc((size_t)width * height * 4);
  r->row = malloc((size_t)width * 3);
  r->width = width;
  r->height = height;
  if (!r->gl || !r->buffer || !r->row || !OSMesaMakeCurrent(r->gl, r->buffer, GL_UNSIGNED_BYTE, width, height)) {
    if (r->gl) OSMesaDestroyContext(r->gl);
    free(r->buffer);
    free(r->row);
    free(r);
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
  release_current();
  return r;
}

// Renders d from a free camera (look-at point, distance, azimuth and elevation in degrees) into rgb,
// width*height*3 bytes, top row first.
EXPORT int vlmrm_render(vlmrm_renderer* r, const mjModel* m, mjData* d, const double* lookat,
                        double distance, double azimuth, double elevation, unsigned char* rgb) {
  if (!OSMesaMakeCurrent(r->gl, r->buffer, GL_UNSIGNED_BYTE, r->width, r->height)) return 0;
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
  release_current();
  return 1;
}

EXPORT void vlmrm_render_free(vlmrm_renderer* r) {
  if (!r) return;
  OSMesaMakeCurrent(r->gl, r->buffer, GL_UNSIGNED_BYTE, r->width, r->height);
  mjr_freeContext(&r->context);
  mjv_freeScene(&r->scene);
  release_current();
  OSMesaDestroyContext(r->gl);
  free(r->buffer);
  free(r->row);
  free(r);
}
