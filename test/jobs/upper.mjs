// A map-only job (run it with --reducers 0): each non-empty line upper-cased, in input order.
// It has no reduce, which a map-only job may leave out.
export default {
  map(line, emit) {
    if (line !== '') emit(line.toUpperCase(), null);
  },
};
