/* RECUR_API marks what librecur exports. The library is built with hidden visibility, so every
 * symbol without it (formats/, runtime/, kernels/ and the libraries they use) stays inside.
 * C++ takes the standard attribute form, which may follow `class [[nodiscard]]`. */
#ifndef RECUR_EXPORT_H_
#define RECUR_EXPORT_H_

#if defined(__cplusplus)
#define RECUR_API [[gnu::visibility("default")]]
#elif defined(__GNUC__)
#define RECUR_API __attribute__((visibility("default")))
#else
#define RECUR_API
#endif

#endif /* RECUR_EXPORT_H_ */
