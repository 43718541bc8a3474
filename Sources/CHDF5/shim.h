// HDF5's constants (H5P_DEFAULT, H5T_NATIVE_FLOAT, H5F_ACC_TRUNC, H5S_UNLIMITED, ...) are macros that
// Swift cannot import; these inline functions hand them over. Version-dependent calls live here too,
// so the Swift side compiles against HDF5 1.10 (Debian) and 1.12+/2.x (Homebrew) alike.
#ifndef SWIFTGRPO_CHDF5_SHIM_H
#define SWIFTGRPO_CHDF5_SHIM_H

#include <hdf5.h>

static inline hid_t chdf5_default(void) { return H5P_DEFAULT; }
static inline hid_t chdf5_error_stack(void) { return H5E_DEFAULT; }
static inline hid_t chdf5_all(void) { return H5S_ALL; }
static inline hsize_t chdf5_unlimited(void) { return H5S_UNLIMITED; }
static inline size_t chdf5_variable(void) { return H5T_VARIABLE; }

static inline unsigned chdf5_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned chdf5_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned chdf5_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned chdf5_acc_excl(void) { return H5F_ACC_EXCL; }
static inline unsigned chdf5_acc_swmr_write(void) { return H5F_ACC_SWMR_WRITE; }
static inline unsigned chdf5_acc_swmr_read(void) { return H5F_ACC_SWMR_READ; }

static inline hid_t chdf5_p_file_create(void) { return H5P_FILE_CREATE; }
static inline hid_t chdf5_p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t chdf5_p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t chdf5_p_dataset_access(void) { return H5P_DATASET_ACCESS; }
static inline hid_t chdf5_p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t chdf5_p_dataset_xfer(void) { return H5P_DATASET_XFER; }

static inline hid_t chdf5_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t chdf5_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t chdf5_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t chdf5_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t chdf5_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t chdf5_native_uint64(void) { return H5T_NATIVE_UINT64; }
// Little-endian file types, so a file reads the same on every machine.
static inline hid_t chdf5_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t chdf5_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t chdf5_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t chdf5_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t chdf5_std_u8le(void) { return H5T_STD_U8LE; }
static inline hid_t chdf5_std_u64le(void) { return H5T_STD_U64LE; }
static inline hid_t chdf5_c_s1(void) { return H5T_C_S1; }

// SWMR needs the 1.10 file format, and no newer one is used, so any HDF5 from 1.10 on (h5py's included) reads
// the file; 1.10 calls that format H5F_LIBVER_V110 or H5F_LIBVER_LATEST.
static inline H5F_libver_t chdf5_libver_v110(void) {
#if H5_VERSION_GE(1, 10, 2)
    return H5F_LIBVER_V110;
#else
    return H5F_LIBVER_LATEST;
#endif
}

// Frees the strings HDF5 allocated while reading variable-length data.
static inline herr_t chdf5_reclaim(hid_t type, hid_t space, void *buffer) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Treclaim(type, space, H5P_DEFAULT, buffer);
#else
    return H5Dvlen_reclaim(type, space, H5P_DEFAULT, buffer);
#endif
}

// Turns off HDF5's printing of its error stack to stderr: we turn failures into typed Swift errors.
static inline herr_t chdf5_silence_errors(void) { return H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

// Asks HDF5 to clear the superblock's "open for writing" flags when opening a file, as `h5clear -s`
// does: a writer killed with SIGKILL leaves them set and every later writer would be refused. The property is the
// one h5clear sets; an HDF5 without it skips the clearing (a cleanly closed file opens all the same).
static inline herr_t chdf5_set_clear_status_flags(hid_t fapl) {
    hbool_t clear = 1;
    if (H5Pexist(fapl, "clear_status_flags") <= 0) return 0;
    return H5Pset(fapl, "clear_status_flags", &clear);
}

// An exclusive advisory lock on the first byte of a run file, held by its one writer for as long as `fd` is open.
// Open-file-description locks (Linux) conflict between any two descriptors, in one process or two, are released
// when the holder dies (kill -9 included), and are independent of the flock() HDF5 takes itself. Returns 0 or errno.
#include <errno.h>
#include <fcntl.h>
#if defined(__linux__) && !defined(F_OFD_SETLK)
#define F_OFD_SETLK 37
#endif
static inline int chdf5_lock_exclusively(int fd) {
    struct flock lock = {0};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = 0;
    lock.l_len = 1;
#ifdef F_OFD_SETLK
    return fcntl(fd, F_OFD_SETLK, &lock) == 0 ? 0 : errno;
#else
    return fcntl(fd, F_SETLK, &lock) == 0 ? 0 : errno;
#endif
}

#endif
